//! The query text cut into tokens, each with its character offset (in Unicode scalar values from
//! the start of the text, as error messages name it).

use super::{invalid, Num};
use crate::error::Error;
use serde_json::Value;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// `[A-Za-z_$][A-Za-z0-9_$]*`: a name, a reserved word or a function name (the parser tells).
    Word(String),
    /// `[[any text]]`: a path segment written out.
    Segment(String),
    /// A number literal, without sign (`-` is an operator).
    Number(Num),
    /// A string literal, escapes resolved.
    Text(String),
    /// An operator or punctuation: `( ) [ ] , . * + - / % = != <> < > <= >=`.
    Punct(&'static str),
    /// The end of the text.
    End,
}

/// A token and the character offset it starts at.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) at: usize,
}

impl Token {
    /// Whether the token is the reserved word `word` (given in upper case), in any case.
    pub(crate) fn is_word(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(word))
    }

    pub(crate) fn is_punct(&self, punct: &str) -> bool {
        matches!(self.tok, Tok::Punct(p) if p == punct)
    }

    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match &self.tok {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Segment(s) => format!("'[[{s}]]'"),
            Tok::Number(_) => "a number".into(),
            Tok::Text(_) => "a string".into(),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::End => "the end of the query".into(),
        }
    }
}

/// The operators, longest first so that `<=` is not read as `<` then `=`.
const PUNCTS: [&str; 19] = [
    "!=", "<>", "<=", ">=", "(", ")", "[", "]", ",", ".", "*", "+", "-", "/", "%", "=", "<", ">", "!",
];

/// Cuts `text` into tokens; the last is always [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        let tok = if is_word_start(c) {
            while chars.get(at).is_some_and(|&c| is_word_char(c)) {
                at += 1;
            }
            // `floor-number` is a name holding `-`, which S11 wants bracketed, not a subtraction
            // of two paths written without spaces (`a - b` still is one).
            if chars.get(at) == Some(&'-') && chars.get(at + 1).is_some_and(|&c| is_word_start(c)) {
                return Err(invalid(
                    at,
                    "a name holding '-' must be written as a bracketed segment ([[a-b]])",
                ));
            }
            Tok::Word(chars[start..at].iter().collect())
        } else if c.is_ascii_digit() {
            let (num, end) = number(&chars, start)?;
            at = end;
            Tok::Number(num)
        } else if c == '\'' || c == '"' {
            let (text, end) = string(&chars, start)?;
            at = end;
            Tok::Text(text)
        } else if c == '[' && chars.get(at + 1) == Some(&'[') {
            let (segment, end) = segment(&chars, start)?;
            at = end;
            Tok::Segment(segment)
        } else {
            let punct = PUNCTS
                .iter()
                .find(|p| p.chars().enumerate().all(|(i, pc)| chars.get(start + i) == Some(&pc)))
                .filter(|p| **p != "!")
                .ok_or_else(|| invalid(start, format!("unexpected character {c:?}")))?;
            at += punct.chars().count();
            Tok::Punct(punct)
        };
        tokens.push(Token { tok, at: start });
    }
    tokens.push(Token { tok: Tok::End, at });
    Ok(tokens)
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_word_char(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit()
}

/// A number at `start` (JSON syntax without the sign, or `0x` hex) and the offset after it.
fn number(chars: &[char], start: usize) -> Result<(Num, usize), Error> {
    let digits = |mut at: usize| {
        while chars.get(at).is_some_and(char::is_ascii_digit) {
            at += 1;
        }
        at
    };
    let malformed = || invalid(start, "malformed number");
    let mut at;
    let num = if chars.get(start) == Some(&'0') && matches!(chars.get(start + 1), Some('x' | 'X')) {
        at = start + 2;
        while chars.get(at).is_some_and(char::is_ascii_hexdigit) {
            at += 1;
        }
        let hex: String = chars[start + 2..at].iter().collect();
        if hex.is_empty() {
            return Err(malformed());
        }
        let value =
            u64::from_str_radix(&hex, 16).map_err(|_| invalid(start, "hexadecimal number larger than 64 bits"))?;
        Num::Int(i128::from(value))
    } else {
        at = digits(start);
        if chars.get(start) == Some(&'0') && at > start + 1 {
            return Err(invalid(start, "malformed number: a leading zero"));
        }
        let mut integral = true;
        if chars.get(at) == Some(&'.') {
            let end = digits(at + 1);
            if end == at + 1 {
                return Err(malformed());
            }
            at = end;
            integral = false;
        }
        if matches!(chars.get(at), Some('e' | 'E')) {
            let mut exponent = at + 1;
            if matches!(chars.get(exponent), Some('+' | '-')) {
                exponent += 1;
            }
            let end = digits(exponent);
            if end == exponent {
                return Err(malformed());
            }
            at = end;
            integral = false;
        }
        let text: String = chars[start..at].iter().collect();
        match text.parse::<i128>() {
            Ok(value) if integral => Num::Int(value),
            _ => {
                // Through `Value`, whose parser (correctly rounded, as `str::parse` is) the engine
                // has anyway. `text` is JSON number syntax here, so the one failure is a magnitude
                // beyond f64 (where `str::parse` gives infinity).
                let value = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.as_f64());
                Num::Float(value.ok_or_else(|| invalid(start, "number out of range"))?)
            }
        }
    };
    // `5abc` or `1.5.2` is a typo, not a number followed by a name.
    if chars.get(at).is_some_and(|&c| is_word_char(c) || c == '.') {
        return Err(malformed());
    }
    Ok((num, at))
}

/// A string literal opening at `start` and the offset after its closing quote.
fn string(chars: &[char], start: usize) -> Result<(String, usize), Error> {
    let quote = chars[start];
    let mut out = String::new();
    let mut at = start + 1;
    loop {
        match chars.get(at) {
            None => return Err(invalid(start, "unterminated string")),
            Some(&c) if c == quote => return Ok((out, at + 1)),
            Some('\\') => {
                match chars.get(at + 1) {
                    Some(&c @ ('\'' | '"' | '\\')) => {
                        out.push(c);
                        at += 2;
                    }
                    Some('u') => {
                        let (c, end) = unicode_escape(chars, at)?;
                        out.push(c);
                        at = end;
                    }
                    _ => return Err(invalid(at, "unknown escape: use \\', \\\", \\\\ or \\uXXXX")),
                }
                continue;
            }
            Some(&c) => out.push(c),
        }
        at += 1;
    }
}

/// A `\uXXXX` escape at `at` (a surrogate pair as two escapes) and the offset after it.
fn unicode_escape(chars: &[char], at: usize) -> Result<(char, usize), Error> {
    let unit = |from: usize| -> Option<u32> {
        if chars.get(from) != Some(&'\\') || chars.get(from + 1) != Some(&'u') {
            return None;
        }
        let hex: String = chars.get(from + 2..from + 6)?.iter().collect();
        hex.chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| u32::from_str_radix(&hex, 16).ok())
            .flatten()
    };
    let bad = || invalid(at, "malformed \\u escape");
    let first = unit(at).ok_or_else(bad)?;
    if (0xD800..0xDC00).contains(&first) {
        let second = unit(at + 6).filter(|u| (0xDC00..0xE000).contains(u)).ok_or_else(bad)?;
        let c = char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)).ok_or_else(bad)?;
        return Ok((c, at + 12));
    }
    Ok((char::from_u32(first).ok_or_else(bad)?, at + 6))
}

/// A `[[...]]` segment opening at `start` and the offset after its `]]`.
fn segment(chars: &[char], start: usize) -> Result<(String, usize), Error> {
    let mut at = start + 2;
    loop {
        match (chars.get(at), chars.get(at + 1)) {
            (None, _) => return Err(invalid(start, "unterminated [[ segment: it ends with ]]")),
            (Some(']'), Some(']')) => return Ok((chars[start + 2..at].iter().collect(), at + 2)),
            _ => at += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn error(text: &str) -> String {
        tokenize(text).unwrap_err().message().to_owned()
    }

    #[test]
    fn words_segments_numbers_strings_and_operators() {
        assert_eq!(
            toks("tags.[[my tag]] >= 0x1F and $x <> 'it\\'s' != \"\\u00e9\\uD83D\\uDE00\""),
            vec![
                Tok::Word("tags".into()),
                Tok::Punct("."),
                Tok::Segment("my tag".into()),
                Tok::Punct(">="),
                Tok::Number(Num::Int(31)),
                Tok::Word("and".into()),
                Tok::Word("$x".into()),
                Tok::Punct("<>"),
                Tok::Text("it's".into()),
                Tok::Punct("!="),
                Tok::Text("é😀".into()),
                Tok::End,
            ]
        );
        assert_eq!(
            toks("1 1.0 2.5e3 1E-2 0 12345678901234567890123"),
            vec![
                Tok::Number(Num::Int(1)),
                Tok::Number(Num::Float(1.0)),
                Tok::Number(Num::Float(2500.0)),
                Tok::Number(Num::Float(0.01)),
                Tok::Number(Num::Int(0)),
                Tok::Number(Num::Int(12345678901234567890123)),
                Tok::End,
            ]
        );
        assert_eq!(toks("[[]]"), vec![Tok::Segment(String::new()), Tok::End]);
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let tokens = tokenize("'éé' = x").unwrap();
        assert_eq!(tokens.iter().map(|t| t.at).collect::<Vec<_>>(), vec![0, 5, 7, 8]);
        assert_eq!(error("'é' = #"), "unexpected character '#' at character offset 6");
    }

    #[test]
    fn malformed_tokens_are_refused_where_they_start() {
        assert_eq!(error("a = 'open"), "unterminated string at character offset 4");
        assert_eq!(
            error("a = 01"),
            "malformed number: a leading zero at character offset 4"
        );
        assert_eq!(error("a = 1."), "malformed number at character offset 4");
        assert_eq!(error("a = 1e"), "malformed number at character offset 4");
        assert_eq!(error("a = 5abc"), "malformed number at character offset 4");
        assert_eq!(error("a = 0x"), "malformed number at character offset 4");
        assert_eq!(
            error("a = 0x1FFFFFFFFFFFFFFFF"),
            "hexadecimal number larger than 64 bits at character offset 4"
        );
        assert_eq!(error("a = 1e999"), "number out of range at character offset 4");
        assert_eq!(
            error("a = 'x\\n'"),
            "unknown escape: use \\', \\\", \\\\ or \\uXXXX at character offset 6"
        );
        assert_eq!(error("'\\uD800'"), "malformed \\u escape at character offset 1");
        assert_eq!(error("'\\u12'"), "malformed \\u escape at character offset 1");
        assert_eq!(
            error("tags.[[a]"),
            "unterminated [[ segment: it ends with ]] at character offset 5"
        );
        assert_eq!(error("a ! b"), "unexpected character '!' at character offset 2");
        assert_eq!(error("é"), "unexpected character 'é' at character offset 0");
    }

    #[test]
    fn floats_read_as_str_parse_reads_them() {
        // The lexer reads floats through serde_json (the parser the engine links anyway): the same
        // correctly rounded f64 as `str::parse`, and out of range exactly where it gives infinity.
        let long = format!("0.{}1e10", "0".repeat(800));
        let huge = format!("1{}", "0".repeat(400));
        let literals = [
            "1.0", "0.1", "2.5e3", "1E-2", "1e+2", "0.30000000000000004", "9007199254740993.0", "2.2250738585072011e-308",
            "2.2250738585072014e-308", "4.9e-324", "2.4e-324", "2.5e-324", "1e-400", "0e99999999999999999999",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.0",
            "12345678901234567890123456789012345678901234567890", &long, &huge,
        ];
        for literal in literals {
            let expected: f64 = literal.parse().unwrap();
            match tokenize(literal) {
                Ok(tokens) => match tokens[0].tok {
                    Tok::Number(Num::Float(f)) => assert_eq!(f.to_bits(), expected.to_bits(), "{literal}"),
                    Tok::Number(Num::Int(i)) => assert_eq!(i as f64, expected, "{literal}"),
                    ref other => panic!("{literal}: {other:?}"),
                },
                Err(e) => {
                    assert!(expected.is_infinite(), "{literal}: {}", e.message());
                    assert_eq!(e.message(), "number out of range at character offset 0");
                }
            }
        }
    }

    #[test]
    fn a_name_holding_a_dash_must_be_bracketed() {
        assert_eq!(
            error("tags.floor-number = 3"),
            "a name holding '-' must be written as a bracketed segment ([[a-b]]) at character offset 10"
        );
        // A subtraction is written with spaces, or of a number.
        assert_eq!(toks("a - b").len(), 4);
        assert_eq!(toks("a-1").len(), 4);
        assert_eq!(toks("tags.[[floor-number]]").len(), 4);
    }
}
