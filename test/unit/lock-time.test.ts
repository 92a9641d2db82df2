/**
 * The lock file's `since` is written by lbctl's own UTC formatter (src/util/lock.ts isoUtc), not
 * Date.prototype.toISOString, whose first use sets up V8's date cache and ICU's time zone. It
 * must give exactly what toISOString gives, at the edges of the calendar and anywhere between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoUtc } from '../../src/util/lock.js';

const MAX = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MIN = Date.UTC(0, 0, 1); // year 0 (Date.UTC maps 0 to 1900, so set it below)

test('isoUtc equals toISOString at calendar edges', () => {
  const edges = [0, -1, 1, 86_399_999, 86_400_000, MAX,
    Date.UTC(2000, 1, 29, 12), Date.UTC(2000, 2, 1), Date.UTC(1900, 1, 28, 23, 59, 59, 999), Date.UTC(1900, 2, 1),
    Date.UTC(2100, 1, 28), Date.UTC(2100, 2, 1), Date.UTC(2024, 1, 29), Date.UTC(2023, 11, 31, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59, 999)];
  const y0 = new Date(MIN); y0.setUTCFullYear(0);
  edges.push(y0.getTime());
  for (const t of edges) assert.equal(isoUtc(t), new Date(t).toISOString(), `at ${t}`);
});

test('isoUtc equals toISOString for any time in years 0-9999', () => {
  const y0 = new Date(MIN); y0.setUTCFullYear(0);
  fc.assert(fc.property(fc.integer({ min: y0.getTime(), max: MAX }), (t) => isoUtc(t) === new Date(t).toISOString()), { numRuns: 20_000 });
});
