/** restore's input decoding: ASCII read as latin1 (a plain copy), anything else as UTF-8; same text either way. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText } from '../../src/ipvs/restore.js';

test('decodeText gives what a UTF-8 decode gives, for ASCII rules and for text with other characters', () => {
  const samples = ['', '-A -t 10.0.0.1:80 -s wrr\n', '# caf\u00e9 \u2014 r\u00e9gles\n-A -t 10.0.0.1:80 -s rr\n', 'services:\n  - name: \u4e2d\u6587\n', '\u00ff\u0080 mixed \ud83d\ude00\n'];
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 200; i++) {
    let s = '';
    const len = rnd(60);
    for (let j = 0; j < len; j++) s += String.fromCharCode(rnd(10) ? 32 + rnd(95) : 0x80 + rnd(0x2000));
    samples.push(s);
  }
  for (const s of samples) {
    const b = Buffer.from(s, 'utf8');
    assert.equal(decodeText(b), b.toString('utf8'), JSON.stringify(s));
  }
  // Invalid UTF-8 decodes as the UTF-8 decoder does (replacement characters), not as latin1.
  assert.equal(decodeText(Buffer.from([0x41, 0xff, 0x42])), 'A\ufffdB');
});
