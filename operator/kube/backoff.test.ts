import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "./backoff.js";

test("backoff doubles up to the maximum, jitter only shortens, reset starts over", () => {
  const noJitter = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => noJitter.next()),
    [100, 200, 400, 800, 1000],
  );
  noJitter.reset();
  assert.equal(noJitter.next(), 100);

  const fullJitter = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.5 }, () => 1);
  assert.equal(fullJitter.next(), 500);
  assert.equal(fullJitter.attempts, 1);
});
