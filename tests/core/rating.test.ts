import { describe, expect, it } from 'vitest';
import { parseRating, readRating } from '../../src/core/rating.ts';

describe('parseRating', () => {
  it.each([
    ['4', 4],
    ['4.', 4],
    [' 5! ', 5],
    ['#4', 4],
    ['4️⃣', 4],
    ['a 4', 4],
    ['3/5', 3],
    ['3 / 5', 3],
    ['3 out of 5', 3],
    ['4 of 5', 4],
    ['4 de 5', 4],
    ["I'd say 2", 2],
    ['honestly a 2. Lots of tension', 2],
    ['it was a 2', 2],
    ['maybe a 3 this week', 3],
    ['four', 4],
    ['Four, decent week', 4],
    ['cuatro', 4],
    ['Cuatro.', 4],
    ['un 4', 4],
    ['tres de cinco', 3],
    ['three out of five', 3],
    ['⭐⭐⭐', 3],
    ['★★★★☆', 4],
    ['⭐⭐⭐⭐ good one', 4],
    ['2. he took my phone', 2],
    ['1 he hit me', 1],
    ['3 - busy week', 3],
    ['2, we have been distant', 2],
    ['4 this week', 4],
    ['4 we had a good talk', 4],
    ['5 best week in a while', 5],
    ['4 stars', 4],
    ['3-4', 3],
    ['3 or 4', 3],
    ['3.5', 3],
    ['Thanks for checking in. 3/5.', 3],
  ])('%j -> %i', (text, rating) => {
    expect(parseRating(text)).toBe(rating);
  });

  it.each([
    ['10 minutes late'],
    ['2 kids'],
    ['2 kids sick all week'],
    ['at 5pm'],
    ['5pm'],
    ['6'],
    ['0'],
    ['10/10'],
    ['4/10'],
    ['my 2 cents'],
    ['4th week'],
    ['5:30'],
    ['I have a 3 year old'],
    ['my son is 4'],
    ['como una reina'],
    ["it's one of those weeks"],
    ['⭐⭐⭐⭐⭐⭐'],
    ['rough week'],
    [''],
  ])('%j is not a rating', (text) => {
    expect(parseRating(text)).toBeNull();
  });

  it('says which rule found the rating', () => {
    expect(readRating('⭐⭐')).toEqual({ value: 2, rule: 'stars' });
    expect(readRating('3/5')).toEqual({ value: 3, rule: 'out-of' });
    expect(readRating('3')).toEqual({ value: 3, rule: 'digit' });
    expect(readRating('three')).toEqual({ value: 3, rule: 'word' });
    expect(readRating("I'd say 3")).toEqual({ value: 3, rule: 'context' });
  });
});
