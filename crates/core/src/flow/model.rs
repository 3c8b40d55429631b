//! The flow document, field by field. Texts are minijinja templates over the conversation's
//! variables (`{{ customer.name }}`, `{{ slot_text }}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of this document format; a flow names the one it was written for.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub schema: u32,
    /// `es`, `pt` or `en`: how dates and weekdays are written.
    pub language: String,
    /// The step a new conversation starts at.
    pub start: String,
    /// Words that work at any question, besides the question's own options.
    pub commands: Commands,
    /// What the bot says in situations no step describes.
    pub messages: Messages,
    /// The tenant's own questions, asked by a `questions` step; the answers become the
    /// booking's custom fields under their `key`.
    #[serde(default)]
    pub questions: Vec<CustomQuestion>,
    pub steps: BTreeMap<String, Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// Back to the start (a held slot is let go).
    pub menu: Vec<String>,
    /// Drop what is under way and stop.
    pub cancel: Vec<String>,
    /// Hand the conversation to a person.
    pub agent: Vec<String>,
    /// Tasks a person may ask for in their own words at any point ("quiero cancelar",
    /// "quero remarcar", "I want to book"), checked in order.
    #[serde(default)]
    pub intents: Vec<Intent>,
}

/// A task named anywhere in a message: any of `words` (whole words, accents and case
/// ignored) leads to `next` with `set` already known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub words: Vec<String>,
    pub next: String,
    /// Variables set before going (`action: cancel` skips asking what to do).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// A day or an hour said on its own ("mañana a las 10") also leads here, and the
    /// slots offered next are the nearest to it: the booking task.
    #[serde(default)]
    pub when: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// When an answer does not fit the question (the question follows again).
    pub retry: String,
    pub canceled: String,
    pub handoff: String,
    /// A slot picked or about to be booked was taken meanwhile (or its hold ran out).
    pub slot_taken: String,
    pub no_slots: String,
    pub earlier: String,
    pub later: String,
    /// "Any professional".
    pub any: String,
    /// The label of the button that opens a list.
    pub list_button: String,
    pub yes: String,
    pub no: String,
    /// When the agenda refuses an action and `errors` has no text for its reason;
    /// `{{ error }}` is the agenda's own explanation (in English).
    pub failed: String,
    /// What to say for a refusal, by the agenda's code: `cutoff_passed`,
    /// `invalid_transition`, `outside_booking_window`, `outside_hours`…
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    /// Texts a flow written before they existed may leave out: the built-in text in the
    /// flow's language is said instead (`flow::labels::builtin`).
    /// An image, voice note, sticker… without text (the question follows again).
    #[serde(default)]
    pub media: Option<String>,
    /// Said once to a person who writes while waiting for the staff after a handoff.
    #[serde(default)]
    pub waiting: Option<String>,
    /// A greeting in the middle of a question (the question follows again).
    #[serde(default)]
    pub welcome_back: Option<String>,
    /// A tap on an option of an older message (the current question follows).
    #[serde(default)]
    pub stale: Option<String>,
    /// Nothing is free when the person asked; the nearest slots follow.
    #[serde(default)]
    pub wish_missed: Option<String>,
    /// The slot list's option that lists the next days with room, and that list's question.
    #[serde(default)]
    pub other_day: Option<String>,
    #[serde(default)]
    pub which_day: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomQuestion {
    pub key: String,
    pub text: String,
    #[serde(default = "free_text")]
    pub validator: Validator,
    #[serde(default)]
    pub options: Vec<OptionDef>,
}

fn free_text() -> Validator {
    Validator::Text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    Name,
    Phone,
    Email,
    /// A calendar date, `dd/mm/yyyy` or `yyyy-mm-dd`; stored as `yyyy-mm-dd`.
    Date,
    DocumentId,
    Text,
    Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Where the flow goes when this option is picked (else the step's `next`).
    #[serde(default)]
    pub next: Option<String>,
}

/// What a booking action does to the booking the conversation has selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    Confirm,
    Cancel,
    /// Moves it to the slot chosen by the last `offer_slots` step.
    Reschedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Says something and goes on (or ends the conversation when there is no `next`).
    Say {
        text: String,
        #[serde(default)]
        next: Option<String>,
    },
    /// Asks and stores the answer in `save_to`. Skipped when `save_to` already has a value
    /// (what turnero knows about the customer is not asked again).
    Ask {
        text: String,
        save_to: String,
        validator: Validator,
        #[serde(default)]
        options: Vec<OptionDef>,
        #[serde(default)]
        next: Option<String>,
    },
    /// Asks the flow's `questions`, one by one, into `fields.<key>`.
    Questions { next: String },
    /// Picks one of the tenant's services into `service` / `service_name`.
    ChooseService { text: String, next: String },
    /// Picks a calendar offering the chosen service into `calendar` / `calendar_name`
    /// (`any`: every calendar's slots are offered together).
    ChooseProfessional {
        text: String,
        #[serde(default)]
        allow_any: bool,
        next: String,
    },
    /// Offers free slots a page at a time with earlier / later. Picking one holds it (unless
    /// the conversation is rescheduling) and sets `slot`, `slot_text`, `hold`.
    OfferSlots {
        text: String,
        #[serde(default = "default_page")]
        page_size: u8,
        #[serde(default = "default_hold_minutes")]
        hold_minutes: u32,
        next: String,
    },
    /// A yes / no question.
    Confirm {
        text: String,
        yes: String,
        no: String,
    },
    /// Books the held slot for the customer (created now if new); sets `booking` and
    /// `booking_text`.
    Book {
        text: String,
        #[serde(default)]
        next: Option<String>,
    },
    /// Lets the customer pick one of their upcoming bookings into `booking`.
    MyBookings {
        text: String,
        /// Said when there are none.
        empty: String,
        next: String,
        #[serde(default)]
        empty_next: Option<String>,
    },
    /// Confirms, cancels or reschedules the selected booking, then says `text`.
    BookingAction {
        action: BookingAction,
        text: String,
        #[serde(default)]
        next: Option<String>,
    },
    /// Hands the conversation to a person; the bot is silent until it is released.
    Handoff { text: String },
    /// Sets a variable (the value is a template).
    Set {
        var: String,
        value: String,
        next: String,
    },
    /// Goes to the first case whose value equals the variable's, else to `default`.
    Branch {
        var: String,
        cases: Vec<Case>,
        default: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub equals: String,
    pub next: String,
}

fn default_page() -> u8 {
    8
}

fn default_hold_minutes() -> u32 {
    10
}

impl Step {
    /// Every step this one can lead to, with the field that names it (options' and cases'
    /// targets are checked where those are listed).
    pub fn targets(&self) -> Vec<(&'static str, &str)> {
        match self {
            Step::Say { next, .. }
            | Step::Book { next, .. }
            | Step::BookingAction { next, .. }
            | Step::Ask { next, .. } => next.as_deref().map(|n| ("next", n)).into_iter().collect(),
            Step::Questions { next }
            | Step::ChooseService { next, .. }
            | Step::ChooseProfessional { next, .. }
            | Step::OfferSlots { next, .. }
            | Step::Set { next, .. } => vec![("next", next.as_str())],
            Step::Confirm { yes, no, .. } => vec![("yes", yes.as_str()), ("no", no.as_str())],
            Step::MyBookings {
                next, empty_next, ..
            } => std::iter::once(("next", next.as_str()))
                .chain(empty_next.as_deref().map(|n| ("empty_next", n)))
                .collect(),
            Step::Handoff { .. } => vec![],
            Step::Branch { default, .. } => vec![("default", default.as_str())],
        }
    }
}
