//! Rust errors as the package's Python exceptions, with the same messages
//! as the command line. The classes live in `aumann/_errors.py`, where they
//! can inherit from both `aumann.Error` and a standard type (ValueError,
//! FileNotFoundError, OSError), which a class made here could not.

use aumann_data::format::FormatError;
use aumann_data::staged::OutputError;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::fmt::Display;

/// The package's exception classes, by their names in `aumann._errors`.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `aumann.Error`: none of the below.
    Error,
    /// `aumann.InvalidInputError`, a ValueError: a setting, a table or a
    /// value the work cannot take.
    InvalidInput,
    /// `aumann.InvalidTypeError`, a TypeError: a table's column of the
    /// wrong type.
    InvalidType,
    /// `aumann.NotFoundError`, a FileNotFoundError.
    NotFound,
    /// `aumann.OutputError`, an OSError: the outputs could not be written.
    Output,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Error => "Error",
            Kind::InvalidInput => "InvalidInputError",
            Kind::InvalidType => "InvalidTypeError",
            Kind::NotFound => "NotFoundError",
            Kind::Output => "OutputError",
        }
    }
}

/// An exception of the given kind with the message.
pub fn raise(kind: Kind, message: &dyn Display) -> PyErr {
    let message = message.to_string();
    Python::attach(|py| {
        let class = py
            .import("aumann._errors")
            .and_then(|m| m.getattr(kind.class()))
            .and_then(|c| Ok(c.cast_into::<PyType>()?));
        match class {
            Ok(class) => PyErr::from_type(class, message),
            Err(e) => e,
        }
    })
}

pub fn invalid(message: &dyn Display) -> PyErr {
    raise(Kind::InvalidInput, message)
}

/// A failure that is the package's own fault, not the caller's.
pub fn internal(message: &dyn Display) -> PyErr {
    raise(Kind::Error, &format!("internal error, please report it: {message}"))
}

/// The kind of any error: NotFound when a missing file or directory is
/// its cause, else `default`.
pub fn classify(error: &(dyn std::error::Error + 'static), default: Kind) -> PyErr {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::NotFound
        {
            return raise(Kind::NotFound, error);
        }
        if let Some(FormatError::NotAPopulation(_)) = e.downcast_ref::<FormatError>() {
            return raise(Kind::NotFound, error);
        }
        cause = e.source();
    }
    raise(default, error)
}

pub fn format(error: FormatError) -> PyErr {
    let kind = match &error {
        FormatError::Io { .. } => Kind::Output,
        FormatError::WrongType { .. } => Kind::InvalidType,
        _ => Kind::InvalidInput,
    };
    classify(&error, kind)
}

pub fn output(error: OutputError) -> PyErr {
    classify(&error, Kind::Output)
}

pub fn engine(error: aumann_engine::Error) -> PyErr {
    match error {
        aumann_engine::Error::Interrupted { .. } => PyKeyboardInterrupt::new_err(error.to_string()),
        error => raise(Kind::InvalidInput, &error),
    }
}

pub fn study(error: aumann_study::StudyError) -> PyErr {
    use aumann_models::AttributeError;
    use aumann_study::StudyError;
    match error {
        StudyError::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        StudyError::Attribute(AttributeError::Engine { source, .. }) => engine(source),
        error => raise(Kind::InvalidInput, &error),
    }
}
