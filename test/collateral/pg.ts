/**
 * PostgreSQL for tests: `VERITEE_TEST_PG_URL` (set by `eval "$(bash .ci/postgres.sh)"`) enables the PG
 * suites; without it they skip with a visible message — unless `VERITEE_REQUIRE_PG=1`, which makes the
 * absence a failure (CI sets both).
 */
export const PG_URL = process.env.VERITEE_TEST_PG_URL;
export const PG_REQUIRED = process.env.VERITEE_REQUIRE_PG === '1';

if (PG_URL === undefined && PG_REQUIRED) {
  throw new Error(
    'VERITEE_REQUIRE_PG=1 but VERITEE_TEST_PG_URL is not set: run eval "$(bash .ci/postgres.sh)"',
  );
}
if (PG_URL === undefined) {
  console.warn(
    'SKIPPING PostgreSQL tests: VERITEE_TEST_PG_URL is not set (eval "$(bash .ci/postgres.sh)" to run them)',
  );
}
