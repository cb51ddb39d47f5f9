import t from 'tap';
import type { AccessToken } from '../../../lib/auth/token/access-token.js';
import {
  handOutDeadline,
  refreshAt,
  RefreshLead,
  TOKEN_TIMING,
} from '../../../lib/auth/token/token-timing.js';

/** a token obtained at 0 that lives `seconds` */
function living(seconds: number): AccessToken {
  return { accessToken: 'x', tokenType: 'Bearer', obtainedAt: 0, expiresAt: seconds * 1000 };
}

t.test('handOutDeadline: the trip upstream and whole-second exp are allowed for', async (t) => {
  const cases: [lifetimeSeconds: number, deadlineMs: number, why: string][] = [
    [3600, 3_595_000, 'an hour: 5 s for the trip upstream'],
    [60, 55_000, 'a minute: still 5 s'],
    [10, 9_000, '10 s: a tenth is 1 s, and so is the whole-second allowance'],
    [2, 1_000, '2 s: the first second only (exp may be floor(now) + 2)'],
    [1, 500, '1 s: half of it, never none'],
  ];
  for (const [seconds, deadline, why] of cases) {
    t.equal(handOutDeadline(living(seconds)), deadline, why);
  }
});

t.test(
  'refreshAt: min(RefreshMargin, lifetime / 10) before expiry, or the lead before the deadline',
  async (t) => {
    const cases: [lifetimeS: number, marginS: number, leadMs: number, at: number, why: string][] = [
      [3600, 300, 20, 3_300_000, 'RefreshMargin decides for long tokens'],
      [300, 300, 20, 270_000, 'RefreshMargin is capped at a tenth of the lifetime'],
      [60, 3, 20, 54_980, 'a small margin: the lead before the hand-out deadline decides'],
      [60, 3, 1_500, 53_500, 'a longer lead starts earlier'],
      [60, 3, 15_000, 49_000, 'the lead is capped at a tenth of the lifetime'],
      [60, 3, 0, 54_999, 'at least 1 ms before the deadline'],
      [2, 300, 20, 980, '2 s tokens: 20 ms before their one usable second ends'],
      [3600, 0, 20, 3_600_000, 'RefreshMargin=0: never ahead, on demand only'],
    ];
    for (const [lifetime, margin, lead, at, why] of cases) {
      t.equal(refreshAt(living(lifetime), margin * 1000, lead), at, why);
    }
  },
);

t.test(
  'RefreshLead: three recent fetch times, the longest halved at each fetch since',
  async (t) => {
    const lead = new RefreshLead();
    t.equal(lead.leadMs, TOKEN_TIMING.defaultLeadMs, 'untimed: the default');
    lead.recordFetch(0);
    t.equal(lead.leadMs, TOKEN_TIMING.minLeadMs, 'an instant fetch: the minimum');
    lead.recordFetch(500);
    t.equal(lead.leadMs, 1_500, 'three times a 500 ms fetch');
    const after: number[] = [];
    for (let i = 0; i < 4; i++) {
      lead.recordFetch(10);
      after.push(lead.leadMs);
    }
    t.same(after, [750, 375, 187.5, 93.75], 'one slow fetch fades by halves, not at once');
  },
);
