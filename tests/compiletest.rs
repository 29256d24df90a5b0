//! Misuses of `#[handler]`, `#[registry]` and `#[dynamic]`: each file in `tests/ui/` holds one
//! mistake, and its `.stderr` is the exact error the user sees.
//! Regenerate after a deliberate change with `TRYBUILD=overwrite cargo test --test compiletest`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
