// Time is injected everywhere: production uses the system clock, tests and `simulate` a clock
// they move by hand, and `dev --speed N` a clock that runs N times faster for demos.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface FakeClock extends Clock {
  set(at: Date | string): void;
  advance(by: {
    days?: number;
    hours?: number;
    minutes?: number;
    seconds?: number;
    ms?: number;
  }): void;
}

export function fakeClock(start: Date | string): FakeClock {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    set: (at) => {
      t = new Date(at).getTime();
    },
    advance: ({ days = 0, hours = 0, minutes = 0, seconds = 0, ms = 0 }) => {
      t += (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + ms;
    },
  };
}

/** A clock that starts at the real time and runs `speed` times faster (a program day in 86400/speed s). */
export function scaledClock(speed: number, base: Clock = systemClock): Clock {
  if (speed === 1) return base;
  const origin = base.now().getTime();
  return { now: () => new Date(origin + (base.now().getTime() - origin) * speed) };
}
