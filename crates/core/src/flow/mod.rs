//! Conversation flows: what the booking bot asks and does, as data. A flow is JSON that a
//! tenant can export, edit and import (`model`), is checked as a whole before it is accepted
//! (`validate`, every problem reported by its JSON path), and is run one turn at a time by a
//! pure interpreter (`engine`) that asks its caller for anything that needs the agenda; what
//! the two say to each other is `protocol`.

pub mod engine;
pub mod labels;
pub mod model;
pub mod protocol;
pub mod validate;
pub mod vars;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_people;

pub use engine::step;
pub use model::{Flow, Step, Validator};
pub use protocol::{Input, Progress, Reply, Request, State};
pub use validate::{parse, Problem};

/// The flow every tenant has until it imports its own.
pub const MAIN: &str = "main";

/// The built-in `main` flow in a language (`es`, `pt`, `en`; anything else gets Spanish).
pub fn default_flow(language: &str) -> Flow {
    let raw = match language {
        "pt" => include_str!("defaults/pt.json"),
        "en" => include_str!("defaults/en.json"),
        _ => include_str!("defaults/es.json"),
    };
    parse(raw.as_bytes()).expect("built-in flows are valid (checked by tests)")
}
