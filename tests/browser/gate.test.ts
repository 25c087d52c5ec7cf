// Browser tests need Chromium: skipped with one clear line on a machine without it, required in CI.
import { describe, expect, it } from 'vitest';
import { browserGate } from './support.ts';

const none = () => false;
const all = () => true;

describe('browserGate', () => {
  it('runs when Chromium is there', () => {
    expect(browserGate({}, all)).toEqual({ run: true });
    expect(browserGate({ CI: 'true' }, all)).toEqual({ run: true });
  });

  it('skips outside CI with one line saying how to install Chromium', () => {
    const gate = browserGate({}, none);
    expect(gate).toMatchObject({ run: false });
    const line = 'skip' in gate ? gate.skip : '';
    expect(line).toContain('apt-get install -y chromium');
    expect(line).toContain('CHROMIUM_PATH');
    expect(line).not.toContain('\n');
    expect(browserGate({ CI: 'false' }, none)).toHaveProperty('skip');
  });

  it('fails loudly in CI', () => {
    const gate = browserGate({ CI: 'true' }, none);
    expect(gate).toHaveProperty('fail');
    expect('fail' in gate && gate.fail).toMatch(/required in CI.*apt-get install -y chromium/);
  });

  it('looks where CHROMIUM_PATH points', () => {
    const seen: string[] = [];
    browserGate({ CHROMIUM_PATH: '/opt/chrome/chrome' }, (p) => (seen.push(p), true));
    expect(seen).toEqual(['/opt/chrome/chrome']);
  });
});
