import { strict as assert } from 'node:assert';
import { DailyBudget, creditsToMinutes, minutesToCredits, type BudgetState } from '../../lib';

/** A clock the test moves by hand, starting at a local date and time. */
function clock(start: Date): { now: () => Date; advance(ms: number): void } {
  let at = start.getTime();
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

function memoryStore(initial?: BudgetState): { state: BudgetState | undefined; load(): Promise<BudgetState | undefined>; save(state: BudgetState): Promise<void> } {
  const store = {
    state: initial,
    load: async () => store.state,
    save: async (state: BudgetState) => {
      store.state = JSON.parse(JSON.stringify(state)) as BudgetState;
    },
  };
  return store;
}

describe('daily stream budget', () => {
  it('adds up streamed time across streams, warns once at 80 %, is exhausted at the limit', async () => {
    const time = clock(new Date(2026, 10, 30, 10, 0, 0));
    const budget = new DailyBudget({ limitMinutes: 10, now: time.now });
    const events: string[] = [];
    budget.on('warning', ({ usedMinutes }) => events.push(`warning ${usedMinutes}`));
    budget.on('exhausted', ({ usedMinutes }) => events.push(`exhausted ${usedMinutes}`));
    await budget.load();
    budget.running('door', true);
    budget.running('yard', true);
    time.advance(4 * 60_000);
    await budget.tick();
    assert.deepEqual(events, ['warning 8']);
    assert.equal(budget.usedMinutes('door'), 4);
    time.advance(60_000);
    await budget.tick();
    assert.deepEqual(events, ['warning 8', 'exhausted 10']);
    assert.equal(budget.exhausted, true);
    budget.running('door', false);
    budget.running('yard', false);
    time.advance(60 * 60_000);
    await budget.tick();
    assert.equal(budget.usedMinutes(), 10, 'stopped streams cost nothing');
  });

  it('starts afresh after local midnight (a session across midnight counts for the new day), and when the limit is raised', async () => {
    const time = clock(new Date(2026, 10, 30, 23, 58, 0));
    const budget = new DailyBudget({ limitMinutes: 1, now: time.now });
    const events: string[] = [];
    budget.on('exhausted', () => events.push('exhausted'));
    budget.on('available', () => events.push('available'));
    budget.running('door', true);
    time.advance(90_000);
    await budget.tick();
    assert.deepEqual(events, ['exhausted']);
    time.advance(60_000); // 00:00:30 the next day, still running
    await budget.tick();
    assert.deepEqual(events, ['exhausted', 'available']);
    assert.equal(budget.usedMinutes(), 0.5, 'only the half minute after midnight counts today');
    budget.setLimit(0.25);
    assert.deepEqual(events, ['exhausted', 'available', 'exhausted']);
    budget.setLimit(5);
    assert.deepEqual(events, ['exhausted', 'available', 'exhausted', 'available']);
  });

  it("survives a restart with the minutes already spent today; yesterday's record or a corrupt one starts afresh", async () => {
    const time = clock(new Date(2026, 10, 30, 12, 0, 0));
    const store = memoryStore();
    const first = new DailyBudget({ limitMinutes: 30, now: time.now, store });
    await first.load();
    first.running('door', true);
    time.advance(20 * 60_000);
    await first.tick();
    const second = new DailyBudget({ limitMinutes: 30, now: time.now, store });
    await second.load();
    assert.equal(second.usedMinutes(), 20);
    store.state = { day: '2026-11-29', usedMs: { door: 10 * 60_000 } };
    const third = new DailyBudget({ limitMinutes: 30, now: time.now, store });
    await third.load();
    assert.equal(third.usedMinutes(), 0);
    store.state = { day: 'garbage', usedMs: { door: -1 } };
    const fourth = new DailyBudget({ limitMinutes: 30, now: time.now, store });
    await fourth.load();
    assert.equal(fourth.usedMinutes(), 0);
  });

  it("converts credits with the plan's published rate, or a rate the user sets", () => {
    assert.equal(creditsToMinutes(3, 'webrtc-gpu-small'), 240);
    assert.equal(creditsToMinutes(1, 'webrtc-gpu-medium'), 60);
    assert.equal(creditsToMinutes(1, 'webrtc-gpu-large'), 30);
    assert.equal(creditsToMinutes(2, 'webrtc-gpu-large', 45), 90);
    assert.equal(minutesToCredits(1440, 'webrtc-gpu-small'), 18, 'a day of one camera on the small plan');
  });
});
