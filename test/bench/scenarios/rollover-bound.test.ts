import t from 'tap';
import { wholeSecondLowerBound } from '../../../bench/scenarios/rollover.js';

/**
 * The latest-possible client: it holds a token until just before its exp, then gets the next one,
 * from a server that stamps exp = floor(issue time) + ttl. Counts the requests it makes after
 * `start` to cover [start, start + seconds].
 */
function greediestClient(start: number, seconds: number, ttl: number, lead: number): number {
  let exp = Math.floor(start - 0.001) + ttl; // the token in hand, obtained just before the run
  let requests = 0;
  while (exp < start + seconds) {
    const at = exp - lead;
    exp = Math.floor(at) + ttl;
    requests++;
  }
  return requests;
}

t.test('no client covers a run with fewer token requests than the bound', async (t) => {
  for (const ttl of [2, 3, 5, 60]) {
    for (const seconds of [3, 10, 20.05, 61]) {
      for (const start of [100, 100.25, 100.5, 100.999]) {
        const bound = wholeSecondLowerBound(seconds, ttl);
        const made = greediestClient(start, seconds, ttl, 0.001);
        t.ok(made >= bound, `ttl ${ttl}, ${seconds} s from ${start}: ${made} >= ${bound}`);
        t.ok(made <= bound + 2, `and the bound is close to what is possible (${made})`);
      }
    }
  }
});

t.test('the bench case: 2-second tokens, 20 s', async (t) => {
  t.equal(wholeSecondLowerBound(20, 2), 18);
  t.equal(wholeSecondLowerBound(3600, 3600), 0, 'a token that outlives the run needs no renewal');
  t.equal(wholeSecondLowerBound(10, 1), Infinity, '1-second tokens cannot be renewed in time');
});
