use serde::Serialize;
use utoipa::ToSchema;

/// One page of a list. Pass `next_cursor` as `cursor` to read the next page; it is `null` on
/// the last one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list that is whole in one page.
    pub fn whole<S>(items: impl IntoIterator<Item = S>) -> Self
    where
        T: From<S>,
    {
        Page {
            data: items.into_iter().map(T::from).collect(),
            next_cursor: None,
        }
    }

    /// The answer to a query for at most `limit` items: when it is full there may be more,
    /// and the next page starts after its last item (`cursor` says how to name it).
    pub fn of<S>(items: Vec<S>, limit: u32, cursor: impl Fn(&S) -> String) -> Self
    where
        T: From<S>,
    {
        let next_cursor = if items.len() == limit as usize {
            items.last().map(cursor)
        } else {
            None
        };
        Page {
            data: items.into_iter().map(T::from).collect(),
            next_cursor,
        }
    }
}
