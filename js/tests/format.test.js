import assert from "node:assert/strict";
import { test } from "node:test";
import * as fmt from "../src/format.js";

test("cost follows the Python report and never shows a silent 0", () => {
  assert.equal(fmt.cost(null), "n/a");
  assert.equal(fmt.cost(undefined), "n/a");
  assert.equal(fmt.cost(0.001234), "$0.001234");
  assert.equal(fmt.cost(0), "$0.000000");
  assert.equal(fmt.cost(1234.5), "$1,234.5000");
  assert.equal(fmt.cost(0.5, "EUR"), "EUR 0.500000");
});

test("tokens, durations, budgets, percents, tags", () => {
  assert.equal(fmt.tokens(1234567), "1,234,567");
  assert.equal(fmt.tokens(123456789), "123.46M");
  assert.equal(fmt.tokens(undefined), "0");
  assert.equal(fmt.duration(850), "850 ms");
  assert.equal(fmt.duration(12_340), "12.3 s");
  assert.equal(fmt.duration(185_000), "3m 05s");
  assert.equal(fmt.duration(3_726_000), "1h 02m");
  assert.equal(fmt.budgetAmount("tokens", 1500), "1,500 tokens");
  assert.equal(fmt.budgetAmount("usd", 0.25), "$0.250000");
  assert.equal(fmt.percent(0.5), "50%");
  assert.equal(fmt.percent(0.012), "1.2%");
  assert.equal(fmt.tags({ arch: "mem0", k: "v" }), "arch=mem0 k=v");
});
