//! The errors of the pure layer: a value that does not parse, or a record that is not
//! what its schema says. All of them are bad input; each names the value it refused.

/// A value or record the model refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("'{name}' is not a stage name: {why}")]
    StageName { name: String, why: &'static str },
    #[error("'{text}' is not a run id (the form is YYYYMMDDTHHMMSSZ-xxxx)")]
    RunId { text: String },
    #[error("'{text}' is not a git object id (40 hexadecimal digits)")]
    ObjectId { text: String },
    #[error("'{text}' is not a sha256 digest (the form is sha256:<64 hexadecimal digits>)")]
    Digest { text: String },
    #[error("'{text}' is not a UTC time (the form is YYYY-MM-DDTHH:MM:SS[.mmm]Z)")]
    Timestamp { text: String },
    #[error("run '{spec}': {why}")]
    RunSpec { spec: String, why: String },
    /// A `-p KEY=VALUE` (or `--suggest`) that does not parse.
    #[error("{0}")]
    Override(String),
    /// A declared params key pattern that selects nothing.
    #[error("no params key matches '{0}'")]
    ParamsKey(String),
    /// An override naming a key that neither the params file nor the stage declares.
    #[error("unknown params key '{0}'")]
    OverrideKey(String),
    /// A sweep axis or product that cannot run.
    #[error("{0}")]
    Sweep(String),
    /// A `--where` condition that does not parse.
    #[error("'{0}' is not a condition like 'precision>0.5' or 'stage=train'")]
    Condition(String),
    /// A table column that does not exist or is ambiguous.
    #[error("{0}")]
    Column(String),
    /// A CSV table that cannot be read as a keyed table.
    #[error("{0}")]
    Table(String),
    /// An agent checks file that does not parse.
    #[error("{0}")]
    AgentChecks(String),
    /// A record (manifest, review, approval, ...) that does not parse or has the
    /// wrong schema.
    #[error("{file}: {why}")]
    Record { file: &'static str, why: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
