//! The attributes' compile errors, each checked against the `.stderr` file beside its case in
//! `tests/ui/`, and one program in `tests/pass/` that uses every option and runs.
//!
//! After a deliberate change of a message, regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p ringloop-macros --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
