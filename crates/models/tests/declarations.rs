//! The indicators' declarations: what every front end reads (flags,
//! settings, Python keywords, the docs' table) is consistent, and the docs
//! show what is declared.

use aumann_models::Indicator;
use aumann_models::indicators::declaration::{self, Bounds, ParameterError};
use std::collections::BTreeSet;

#[test]
fn parameter_names_and_keywords_are_unique_and_defaults_within_bounds() {
    let mut names = BTreeSet::new();
    let mut keywords = BTreeSet::new();
    let mut count = 0;
    for (indicator, p) in declaration::parameters() {
        assert!(names.insert(p.name), "{indicator}: {} declared twice", p.name);
        assert!(keywords.insert(declaration::python_keyword(p.name)));
        match p.default {
            Some(v) => assert!(p.bounds.contains(v), "{}: default {v} outside {:?}", p.name, p.bounds),
            None => assert!(
                !p.when_absent.is_empty(),
                "{}: no default and no word for its absence",
                p.name
            ),
        }
        assert!(!p.help.is_empty() && !p.unit.is_empty() && !p.symbol.is_empty());
        count += 1;
    }
    assert_eq!(count, 6, "the indicators declare six parameters");
    assert_eq!(declaration::python_keyword("lambda"), "lambda_");
    assert_eq!(declaration::python_keyword("cascade-c"), "cascade_c");
}

#[test]
fn each_declaration_makes_its_indicator_and_reads_back_the_values_it_was_given() {
    let names: Vec<&str> = Indicator::names().collect();
    assert_eq!(
        names,
        [
            "polarization",
            "cascade",
            "attention",
            "panic",
            "linear",
            "participation"
        ]
    );
    for d in Indicator::declarations() {
        let indicator = d.with_defaults();
        assert_eq!(indicator.name(), d.name);
        assert_eq!(indicator.declaration().name, d.name);
        // Distinct values per parameter: a make or values that swapped two
        // parameters would not read them back.
        let values: Vec<Option<f64>> = (0..d.parameters.len()).map(|k| Some(0.125 * (k + 1) as f64)).collect();
        let made = (d.make)(&values);
        assert_eq!(made.parameter_values(), values, "{}", d.name);
        if !values.is_empty() {
            assert_ne!(made.parameter_values(), indicator.parameter_values(), "{}", d.name);
        }
    }
}

#[test]
fn values_outside_their_bounds_and_unknown_names_are_refused_with_the_front_ends_spelling() {
    let flag = |name: &str| format!("--{name}");
    let err = declaration::chosen("polarization", &[("kappa".into(), -1.0)], &flag).unwrap_err();
    assert_eq!(err.to_string(), "--kappa must be a finite number above 0; got -1");
    let err = declaration::chosen("cascade", &[("cascade-c".into(), 1.5)], &flag).unwrap_err();
    assert!(
        matches!(
            err,
            ParameterError::OutOfBounds {
                bounds: Bounds::Share,
                ..
            }
        ),
        "{err}"
    );
    // A value for an indicator not chosen is checked too.
    assert!(declaration::chosen("linear", &[("depth".into(), 0.0)], &flag).is_err());
    let err = declaration::chosen("all", &[("kapa".into(), 1.0)], &flag).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no indicator takes --kapa; the parameters are --kappa, --beta"),
        "{err}"
    );
    let err = declaration::chosen("nope", &[], &flag).unwrap_err();
    assert!(err.to_string().contains("choose one of polarization, cascade"), "{err}");
    // The values given reach the indicators; the rest keep their defaults.
    let chosen = declaration::chosen("all", &[("beta".into(), 0.5), ("depth".into(), 7.0)], &flag).unwrap();
    assert_eq!(chosen.len(), 6);
    assert_eq!(chosen[1].parameter_values(), [Some(0.5), Some(0.2)]);
    assert_eq!(chosen[3].parameter_values(), [Some(1.0), Some(7.0)]);
    assert_eq!(chosen[0], Indicator::from_name("polarization").unwrap());
}

#[test]
fn summary_json_records_each_parameter_under_its_declared_name() {
    let cascade = declaration::chosen("cascade", &[("cascade-c".into(), 0.3)], &|n| n.to_string()).unwrap();
    assert_eq!(
        serde_json::to_value(cascade[0]).unwrap(),
        serde_json::json!({"name": "cascade", "beta": 0.05, "cascade-c": 0.3})
    );
    let panic = Indicator::from_name("panic").unwrap();
    assert_eq!(
        serde_json::to_value(panic).unwrap(),
        serde_json::json!({"name": "panic", "lambda": 1.0, "depth": null})
    );
    assert_eq!(
        serde_json::to_value(Indicator::Linear).unwrap(),
        serde_json::json!({"name": "linear"})
    );
}

#[test]
fn the_docs_show_every_declared_parameter_and_indicator() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/indicators.md")).unwrap();
    let (start, end) = (
        "<!-- parameters: from the declarations -->\n",
        "<!-- end of parameters -->",
    );
    let from = docs.find(start).expect("the table's opening marker") + start.len();
    let to = docs[from..].find(end).expect("the table's closing marker") + from;
    assert_eq!(
        &docs[from..to],
        declaration::parameter_table(),
        "docs/indicators.md's parameter table differs from the declarations: replace it with \
         aumann_models::indicators::declaration::parameter_table()"
    );
    for d in Indicator::declarations() {
        assert!(
            docs.contains(&format!("\n## {}\n", d.section)),
            "{}: no section '{}'",
            d.name,
            d.section
        );
    }
}
