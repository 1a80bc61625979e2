//! Read INI inventory values as Ansible does: Python literals become typed, anything else stays text.
//!
//! Ansible runs `ast.literal_eval` on every INI value, so `port=2222` is a
//! number, `become=True` a boolean, `dns=['1.1.1.1']` a list, while
//! `become=true` (lower case) or `10.0.0.1` stay strings. This is the subset of
//! Python literal syntax inventories use; what it cannot read stays a string,
//! just as when literal_eval fails.

use serde_json::{Map, Number, Value};

/// The value Ansible would store for INI text `s`.
pub fn parse(s: &str) -> Value {
    let mut p = Parser {
        s: s.as_bytes(),
        pos: 0,
        depth: 0,
    };
    match p.value() {
        Some(v) if p.at_end() => v,
        _ => Value::String(s.to_string()),
    }
}

/// Nesting limit, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_ws();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = match self.peek()? {
            b'\'' | b'"' => self.string().map(Value::String),
            b'[' => self.seq(b'['),
            b'(' => self.seq(b'('),
            b'{' => self.dict(),
            _ => self.atom(),
        };
        self.depth -= 1;
        v
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == quote {
                return String::from_utf8(out).ok();
            }
            if c == b'\\' {
                let e = self.peek()?;
                self.pos += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'\\' | b'\'' | b'"' => out.push(e),
                    _ => {
                        out.push(b'\\');
                        out.push(e);
                    }
                }
            } else {
                out.push(c);
            }
        }
        None
    }

    fn seq(&mut self, open: u8) -> Option<Value> {
        let close = if open == b'[' { b']' } else { b')' };
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(Value::Array(items));
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(Value::Array(items));
            }
        }
    }

    fn dict(&mut self) -> Option<Value> {
        self.pos += 1;
        let mut map = Map::new();
        loop {
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            if !self.eat(b':') {
                return None;
            }
            let v = self.value()?;
            map.insert(key, v);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    /// Numbers, True, False, None: a run of characters up to a delimiter.
    fn atom(&mut self) -> Option<Value> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, b',' | b']' | b')' | b'}' | b':' | b' ' | b'\t') {
                break;
            }
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        match word {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => number(word),
        }
    }
}

/// Python int and float literals, with sign and `_` separators.
fn number(word: &str) -> Option<Value> {
    let (neg, body) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let clean = body.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find(|(p, _)| lower.starts_with(p));
    if let Some((prefix, radix)) = radix {
        let n = i64::from_str_radix(&lower[prefix.len()..], radix).ok()?;
        return Some(Value::from(if neg { -n } else { n }));
    }
    if clean.bytes().all(|b| b.is_ascii_digit()) {
        // Python rejects leading zeros (`0755`), so they stay strings.
        if clean.len() > 1 && clean.starts_with('0') && clean.bytes().any(|b| b != b'0') {
            return None;
        }
        let n: i64 = clean.parse().ok()?;
        return Some(Value::from(if neg { -n } else { n }));
    }
    let float_chars = clean
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let has_digit = clean.bytes().any(|b| b.is_ascii_digit());
    if !float_chars
        || !has_digit
        || !clean.as_bytes()[0].is_ascii_digit() && !clean.starts_with('.')
    {
        return None;
    }
    let f: f64 = clean.parse().ok()?;
    Number::from_f64(if neg { -f } else { f }).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::json;

    #[test]
    fn python_literals_become_typed() {
        assert_eq!(parse("2222"), json!(2222));
        assert_eq!(parse("-3"), json!(-3));
        assert_eq!(parse("1_000"), json!(1000));
        assert_eq!(parse("0x1f"), json!(31));
        assert_eq!(parse("1.5"), json!(1.5));
        assert_eq!(parse("True"), json!(true));
        assert_eq!(parse("None"), json!(null));
        assert_eq!(parse("'quoted'"), json!("quoted"));
        assert_eq!(parse("\"a b\""), json!("a b"));
        assert_eq!(parse("['1.1.1.1', 2]"), json!(["1.1.1.1", 2]));
        assert_eq!(parse("{'a': 1, 'b': [True]}"), json!({"a": 1, "b": [true]}));
    }

    #[test]
    fn everything_else_stays_text() {
        for s in [
            "true", "10.0.0.1", "0755", "v1.31.4", "a b", "'open", "[1, 2", "1.2.3",
        ] {
            assert_eq!(parse(s), json!(s), "{s}");
        }
    }
}
