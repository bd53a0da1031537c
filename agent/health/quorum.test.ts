import assert from "node:assert/strict";
import { test } from "node:test";
import { QuorumState } from "./quorum.js";

test("quorum with hysteresis: gained at minimum + hysteresis, lost below minimum - hysteresis", () => {
  const quorum = new QuorumState(10, 2, 12);
  assert.equal(quorum.up, true);
  assert.equal(quorum.update(9), undefined, "9 is not below 10 - 2");
  assert.equal(quorum.update(8), undefined);
  assert.equal(quorum.update(7), "lost");
  assert.equal(quorum.update(11), undefined, "11 is below 10 + 2");
  assert.equal(quorum.update(12), "gained");
});

test("default quorum (1, no hysteresis): lost exactly when no healthy weight is left", () => {
  const quorum = new QuorumState(1, 0, 3);
  assert.equal(quorum.update(1), undefined);
  assert.equal(quorum.update(0), "lost");
  assert.equal(quorum.update(1), "gained");
});

test("a service starting below its quorum starts down", () => {
  const quorum = new QuorumState(5, 1, 5);
  assert.equal(quorum.up, false);
  assert.equal(quorum.update(6), "gained");
});
