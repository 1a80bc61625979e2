//! One problem found in a playbook, printed as compilers print errors.

use std::fmt;
use std::path::PathBuf;

/// A problem located by file and line; loading collects all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaybookError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no line (the file cannot be read).
    pub line: usize,
    pub message: String,
}

impl PlaybookError {
    pub fn new(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        PlaybookError {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for PlaybookError {
    /// `FILE:LINE: message` on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PlaybookError {}
