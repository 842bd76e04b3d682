//! Printable HTML calendar. Placeholder while the renderer is written.

use std::io::Write;

use crate::error::{Error, Result};
use crate::render::Extras;
use crate::schedule::Plan;

pub fn write(_plan: &Plan, _extras: &Extras, _out: &mut dyn Write) -> Result<()> {
    Err(Error::Usage("html output is not available yet".into()))
}
