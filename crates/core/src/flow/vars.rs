//! Conversation variables (flat, dotted names: `customer.name`, `fields.insurance`) and the
//! minijinja templates that read them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// `customer.name`, `slot_text`, `fields.insurance`: lowercase words joined by dots.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !part.starts_with(|c: char| c.is_ascii_digit())
        })
}

pub fn check_template(text: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    env.template_from_str(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Dotted names become nested objects, so `{{ customer.name }}` reads `customer.name`.
fn context(vars: &BTreeMap<String, String>) -> Value {
    let mut root = Map::new();
    for (name, value) in vars {
        let mut parts: Vec<&str> = name.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut cur = &mut root;
        for p in parts {
            let entry = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            cur = entry.as_object_mut().expect("made an object just above");
        }
        cur.insert(last.to_string(), Value::String(value.clone()));
    }
    Value::Object(root)
}

/// Renders a template; a flow is checked before it is accepted, so a failure here (an
/// undefined filter at run time) falls back to the raw text rather than silence.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> String {
    if !text.contains("{{") && !text.contains("{%") {
        return text.to_string();
    }
    let env = minijinja::Environment::new();
    env.render_str(text, context(vars))
        .unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_variables_read_as_nested_names_in_templates() {
        let vars = [("customer.name".to_string(), "Ana".to_string())].into();
        assert_eq!(
            super::render("{% if customer.name == 'Ana' %}yes{% endif %}", &vars),
            "yes"
        );
        assert_eq!(super::render("Hola {{ customer.name }}", &vars), "Hola Ana");
    }
}
