//! The sixth indicator of examples/participation.rs, checked like the
//! built-in ones: its gradient against finite differences, its attribution
//! against its closed form.

#[path = "../examples/participation.rs"]
mod participation;

#[test]
fn the_example_indicator_matches_its_gradient_and_closed_form() {
    let worst = participation::check();
    assert!(worst < 1e-9, "{worst:e}");
}
