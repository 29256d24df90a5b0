//! Misuses of `#[handler]`, `#[registry]` and `#[dynamic]`: each file in `tests/ui/` holds one
//! mistake, and its `.stderr` is the exact error the user sees.
//! Regenerate after a deliberate change with `TRYBUILD=overwrite cargo test --test compiletest`.
//!
//! rustc's wording changes between releases, so the snapshots hold for the release they were
//! made with (1.95, which CI runs) and the test is ignored, saying why, on any other compiler.

// Before `#[test]`, which reads `#[ignore]` when it expands.
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the tests/ui/*.stderr snapshots hold rustc 1.95's wording: run with rustc 1.95"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
