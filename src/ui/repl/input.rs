//! A REPL input that spans lines. As in a shell, a string left open at the end of a line
//! goes on at the next (`...> `) and the line break is part of it; Rhai itself ends a
//! `"..."` string at a line break, so each such break is written as an escaped newline
//! followed by Rhai's line continuation (`\n\` then the break): the text keeps its line
//! numbers and columns, and is what `save()` writes.

/// `input` as Rhai should read it (see the module docs).
pub fn prepare(input: &str) -> String {
    #[derive(PartialEq)]
    enum State {
        Code,
        /// In a `"..."` string.
        Str,
        /// In a `` `...` `` string (Rhai's own multi-line string).
        Backtick,
        /// In a `'c'` character.
        Char,
        LineComment,
        /// In `/* ... */`, nested this deep.
        Block(u32),
    }
    let mut out = String::with_capacity(input.len());
    let mut state = State::Code;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                '"' => state = State::Str,
                '`' => state = State::Backtick,
                '\'' => state = State::Char,
                '/' if chars.peek() == Some(&'/') => state = State::LineComment,
                '/' if chars.peek() == Some(&'*') => {
                    out.push(c);
                    out.push(chars.next().unwrap_or('*'));
                    state = State::Block(1);
                    continue;
                }
                _ => {}
            },
            State::Str | State::Char => match c {
                // An escape (or Rhai's own continuation): the next character is taken as is.
                '\\' => {
                    out.push(c);
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                    continue;
                }
                '"' if state == State::Str => state = State::Code,
                '\'' if state == State::Char => state = State::Code,
                '\n' if state == State::Str => {
                    out.push_str("\\n\\\n");
                    continue;
                }
                _ => {}
            },
            State::Backtick => {
                if c == '`' {
                    state = State::Code;
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::Block(depth) => match c {
                '*' if chars.peek() == Some(&'/') => {
                    out.push(c);
                    out.push(chars.next().unwrap_or('/'));
                    state = match depth {
                        1 => State::Code,
                        d => State::Block(d - 1),
                    };
                    continue;
                }
                '/' if chars.peek() == Some(&'*') => {
                    out.push(c);
                    out.push(chars.next().unwrap_or('*'));
                    state = State::Block(depth + 1);
                    continue;
                }
                _ => {}
            },
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::prepare;

    fn eval(src: &str) -> String {
        rhai::Engine::new()
            .eval::<String>(&prepare(src))
            .unwrap_or_else(|e| panic!("{src:?} as {:?}: {e}", prepare(src)))
    }

    #[test]
    fn a_line_break_in_an_open_string_is_part_of_it() {
        assert_eq!(eval("let s = \"abc\ndef\"; s"), "abc\ndef");
        assert_eq!(eval("\"a\n\nb\""), "a\n\nb");
    }

    #[test]
    fn everything_else_is_left_alone() {
        for src in [
            "let s = \"a\\\"b\";\nlet t = 'x';",
            "let c = '\"';\nlet d = 1;",
            "// a \"comment\nlet e = 2;",
            "/* \"a /* b */ c\" */\nlet f = 3;",
            "let g = `multi\nline`;",
            "let h = \"ab\\\n   cd\";",
        ] {
            assert_eq!(prepare(src), src);
        }
        assert_eq!(eval("let c = '\"';\n\"x\ny\""), "x\ny");
    }

    #[test]
    fn an_open_string_at_the_end_stays_open() {
        let e = rhai::Engine::new();
        let err = e.compile(prepare("let s = \"abc\ndef")).unwrap_err();
        assert!(err.to_string().contains("not terminated"), "{err}");
    }
}
