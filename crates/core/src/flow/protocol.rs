//! The conversation between the pure interpreter (`engine`) and the service that runs it:
//! the state stored between messages, what goes in (a message, or the agenda's reply to a
//! request), what the interpreter asks of the agenda, and what one call produces. These
//! are the only values that cross that boundary; the service performs the requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::BookingAction;
use crate::chat::{Output, Question};
use crate::wish::Wish;

/// Where a conversation is. Stored between messages (as JSON) by the caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The step waiting for an answer or a reply; `None` when idle.
    pub at: Option<String>,
    pub vars: BTreeMap<String, String>,
    /// The question last put to the user: typed answers are read against its options.
    pub question: Option<Question>,
    /// Which of the flow's custom questions a `questions` step is asking.
    pub question_index: usize,
    /// First and last start of the slot page on show (for earlier / later).
    pub page: Option<(i64, i64)>,
    /// The last step that offered slots: where a taken slot leads back to.
    pub offer_step: Option<String>,
    /// Handed to a person: the bot says nothing until released.
    pub handoff: bool,
}

/// Set once the person waiting for the staff was told someone will answer.
pub(crate) const WAITED_VAR: &str = "_waiting_told";

impl State {
    /// Staff took the conversation over themselves: a person is already answering, so the
    /// patient's next message is not met with "someone will answer you".
    pub fn take_over(&mut self) {
        self.handoff = true;
        self.vars.insert(WAITED_VAR.into(), "1".into());
    }

    /// Back to the bot: the next message starts the flow anew, and a later hand-off tells
    /// the person once more that someone will answer.
    pub fn hand_back(&mut self) {
        self.handoff = false;
        self.at = None;
        self.question = None;
        self.vars.remove(WAITED_VAR);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// What the user wrote, and the id of the button or row they pressed, if any.
    Message {
        text: String,
        reply_id: Option<String>,
    },
    Reply(Reply),
}

/// Something only the agenda can answer. All ids are the agenda's own.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Services,
    Professionals {
        service: String,
    },
    /// A page of free starts after `after` (or before `before`), across every calendar
    /// offering the service when `calendar` is `None`. `booking` is the one being moved,
    /// whose own time does not count as taken.
    Slots {
        service: String,
        calendar: Option<String>,
        after: Option<i64>,
        before: Option<i64>,
        count: usize,
        booking: Option<String>,
        /// When the person asked for ("el martes a la tarde"): the page offered is the
        /// free slots nearest to it instead of the first ones.
        wish: Option<Wish>,
    },
    /// The next days with a free slot (at most ten), as items `day:YYYY-MM-DD` titled
    /// like a slot list's day ("jue 10/01"), for "another day".
    Days {
        service: String,
        calendar: Option<String>,
        booking: Option<String>,
    },
    Hold {
        calendar: String,
        service: String,
        start: i64,
        minutes: u32,
    },
    /// What the agenda knows about the customer with this phone (E.164).
    Identify {
        phone: String,
    },
    /// Books the held slot (or, the hold gone, the same start if still free) for the
    /// customer in `customer.*`, with `fields.*` as custom fields.
    Book {
        hold: Option<String>,
        calendar: String,
        service: String,
        start: i64,
        customer: BTreeMap<String, String>,
        fields: BTreeMap<String, String>,
    },
    /// The customer's upcoming bookings.
    MyBookings {
        customer: BTreeMap<String, String>,
    },
    Act {
        booking: String,
        action: BookingAction,
        /// The new start, when rescheduling.
        start: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Services, calendars or bookings to choose from.
    Items(Vec<Item>),
    Slots {
        slots: Vec<SlotItem>,
        has_earlier: bool,
        has_later: bool,
        /// Nothing was free at the wished time: these are the nearest.
        missed: bool,
    },
    Held {
        hold: String,
    },
    /// Done; these variables are now known (`booking`, `booking_text`, `customer.name`…).
    Done(BTreeMap<String, String>),
    /// The slot was taken meanwhile.
    Taken,
    /// The agenda refused: its stable code (`cutoff_passed`) and its explanation. The person
    /// hears `messages.errors[code]`, or `messages.failed` with `{{ error }}`.
    Failed {
        code: String,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Variables set when it is picked (a booking brings its service and calendar).
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlotItem {
    pub calendar: String,
    pub calendar_name: String,
    pub start: i64,
    pub offset_seconds: i32,
}

/// What one call produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub outputs: Vec<Output>,
    pub need: Option<Request>,
    /// A hold to let go of (the user left the booking); nothing waits on it.
    pub release: Option<String>,
    /// The conversation was just handed to a person.
    pub handoff: bool,
    /// Variables whose value changed, with their new value (`None`: unset).
    pub changed: BTreeMap<String, Option<String>>,
}
