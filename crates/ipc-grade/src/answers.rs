//! Written answers: the handout's questions, the `ANSWERS.md` a starter
//! gives students, which of them a student answered, and the marks an
//! instructor gives them in the class table.
//!
//! The loop:
//!
//! 1. every handout (`exercises/<crate>/README.md`) ends its `## Questions`
//!    section with a numbered list ([`questions`]);
//! 2. a starter writes `exercises/<crate>/ANSWERS.md` with a heading, the
//!    question quoted and a placeholder per question ([`template`]);
//! 3. the grader reports each question answered or not ([`answered`],
//!    [`answered_in`]): a section with text of the student's own under its
//!    heading;
//! 4. `--class` writes a column per question into `class.csv`
//!    ([`crate::report::Class::csv`]); the instructor writes a mark in each
//!    cell and hands the file back with `--marks FILE` ([`read_marks`],
//!    [`Marks::apply`]), which adds the marks to the scores.
//!
//! ```
//! use ipc_grade::answers::{answered, questions, template};
//! let handout = "# exp0\n\n## Questions\n\n1. Why does `get` block?\n2. What would\n   change?\n\n## Clean-up\n";
//! let qs = questions(handout).unwrap();
//! assert_eq!(qs[1].text, "What would change?");
//! let blank = template("exp0", &qs);
//! assert_eq!(answered(&blank, &qs), [(1, false), (2, false)]);
//! let done = blank.replacen(ipc_grade::answers::PLACEHOLDER, "It waits for a message.", 1);
//! assert_eq!(answered(&done, &qs), [(1, true), (2, false)]);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;

use crate::points::Points;
use crate::report::{self, Answer, Report};
use crate::{Error, Result};

/// The file a student answers in, in each crate's directory.
pub const FILE: &str = "ANSWERS.md";

/// The handout's heading above its questions.
pub const HEADING: &str = "## Questions";

/// The line under each question of a fresh [`template`]: not an answer.
pub const PLACEHOLDER: &str = "_(write your answer here, in place of this line)_";

/// How much of a student's `ANSWERS.md` is read (1 MiB): text past it is
/// ignored, so a huge file costs no more than this.
pub const MAX_BYTES: usize = 1 << 20;

/// How wide [`template`] wraps a quoted question.
const WIDTH: usize = 72;

/// One question of a handout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Its number, from 1.
    pub number: u32,
    /// Its text, unwrapped to one paragraph (inline code kept as written).
    pub text: String,
}

/// The numbered list under the handout's `## Questions` heading, up to
/// the next heading.
///
/// An item is a line `N. text` (or `N) text`) at the start of a line, and
/// the lines after it up to a blank line or the next item (a wrapped
/// question's lines are indented; a blank line followed by an indented
/// line continues the item). Text before the first item and after the
/// list is ignored; so are fenced code blocks at the start of a line.
///
/// ```
/// let qs = ipc_grade::answers::questions("## Questions\n\n1. One?\n2. Two,\n   wrapped?\n").unwrap();
/// assert_eq!((qs[1].number, qs[1].text.as_str()), (2, "Two, wrapped?"));
/// assert!(ipc_grade::answers::questions("## Questions\n\n1. a\n3. b\n").is_err());
/// ```
///
/// # Errors
/// [`Error::Failed`] when the handout has no `## Questions` heading, no
/// numbered item under it, or a numbering that does not go 1, 2, 3…
pub fn questions(handout: &str) -> Result<Vec<Question>> {
    let mut fence = Fence::default();
    let mut lines = handout.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut found = false;
    for line in lines.by_ref() {
        if fence.inside(line) {
            continue;
        }
        if line.trim_end() == HEADING {
            found = true;
            break;
        }
    }
    if !found {
        return Err(Error::Failed(format!(
            "the handout has no `{HEADING}` heading (a line of its own above the numbered questions)"
        )));
    }
    let mut items: Vec<(u32, Vec<String>)> = Vec::new();
    // The current item may take more lines: none after a blank line
    // unless they are indented.
    let mut open = false;
    let mut blank = false;
    for line in lines {
        if fence.inside(line) {
            open = false;
            continue;
        }
        if line.starts_with('#') {
            break;
        }
        if line.trim().is_empty() {
            blank = true;
            continue;
        }
        if let Some((number, text)) = list_item(line) {
            items.push((number, vec![text.to_owned()]));
            open = true;
        } else if open && (!blank || line.starts_with([' ', '\t'])) {
            if let Some((_, text)) = items.last_mut() {
                text.push(line.trim().to_owned());
            }
        } else {
            open = false;
        }
        blank = false;
    }
    if items.is_empty() {
        return Err(Error::Failed(format!(
            "the handout's `{HEADING}` section has no numbered question (`1. …` at the start of a line)"
        )));
    }
    let mut questions = Vec::with_capacity(items.len());
    for (i, (number, text)) in items.into_iter().enumerate() {
        let expected = i as u32 + 1;
        if number != expected {
            return Err(Error::Failed(format!(
                "the handout's questions are not numbered 1, 2, 3…: question {number} comes where {expected} should"
            )));
        }
        questions.push(Question {
            number,
            text: collapse(&text.join(" ")),
        });
    }
    Ok(questions)
}

/// Reads the questions of the handout in `crate_dir` (its `README.md`).
///
/// # Errors
/// The handout cannot be read, or [`questions`] refuses it (the message
/// names the file).
pub fn read_questions(crate_dir: &Path) -> Result<Vec<Question>> {
    let path = crate_dir.join("README.md");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    questions(&text).map_err(|e| Error::Failed(format!("{}: {e}", path.display())))
}

/// `N. text` or `N) text` at the start of a line (CommonMark's ordered
/// list item, up to 9 digits).
fn list_item(line: &str) -> Option<(u32, &str)> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = &line[digits..];
    let rest = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((line[..digits].parse().ok()?, rest.trim()))
}

/// Whitespace runs made one space, ends trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fenced code blocks (```` ``` ```` or `~~~` at the start of a line),
/// whose lines are neither headings nor items.
#[derive(Default)]
struct Fence(Option<&'static str>);

impl Fence {
    /// True if `line` opens, closes or lies inside a fence.
    fn inside(&mut self, line: &str) -> bool {
        let marker = ["```", "~~~"].into_iter().find(|m| line.starts_with(m));
        match (self.0, marker) {
            (Some(open), Some(m)) if open == m => {
                self.0 = None;
                true
            }
            (Some(_), _) => true,
            (None, Some(m)) => {
                self.0 = Some(m);
                true
            }
            (None, None) => false,
        }
    }
}

/// The `ANSWERS.md` a starter writes for `krate`: a title, how to answer,
/// then per question a heading `## Question N`, the question quoted and
/// [`PLACEHOLDER`]. As written, it answers nothing.
///
/// ```
/// use ipc_grade::answers::{Question, template};
/// let text = template("exp7-shm", &[Question { number: 1, text: "Why?".into() }]);
/// assert!(text.starts_with("# Answers: exp7-shm\n"));
/// assert!(text.contains("\n## Question 1\n\n> Why?\n\n"));
/// ```
pub fn template(krate: &str, questions: &[Question]) -> String {
    let mut text = format!("# Answers: {krate}\n\n");
    let _ = writeln!(
        text,
        "Answer each question of the handout (`exercises/{krate}/README.md`,\n\
         \"Questions\") under its heading below: write your answer in place of the\n\
         placeholder line in italics, and keep the headings as they are. A\n\
         question with nothing of yours under it counts as not answered:\n\
         `scripts/grade.sh` reports which questions are answered, and your\n\
         instructor marks them."
    );
    for question in questions {
        let _ = write!(text, "\n## Question {}\n\n", question.number);
        for line in wrap(&question.text, WIDTH - 2) {
            let _ = writeln!(text, "> {line}");
        }
        let _ = writeln!(text, "\n{PLACEHOLDER}");
    }
    text
}

/// `text` cut into lines of at most `width` characters at spaces (a longer
/// word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Which of `questions` a student's `ANSWERS.md` (its text) answers, in
/// the order of `questions`.
///
/// A question is answered when a section headed with its number (`##
/// Question 3`, `## 3.`, `### Q3: …`: any heading whose text is the
/// number, alone or after `Question` or `Q`, followed by nothing or by
/// `.`, `:`, `)` and more) holds a letter or digit that is not part of
/// the [`PLACEHOLDER`] line nor of the question quoted unchanged (`> …`,
/// however wrapped). A section runs to the next heading of its level or
/// higher; deeper headings belong to the answer. Sections may come in any
/// order, be missing or repeat (answered if any copy is); line ends may be
/// CRLF; text past [`MAX_BYTES`] is ignored. Never panics.
///
/// ```
/// use ipc_grade::answers::{Question, answered};
/// let qs = [Question { number: 1, text: "Why?".into() }, Question { number: 2, text: "How?".into() }];
/// assert_eq!(answered("## 2.\r\n\r\nLike this.\r\n## Question 1\r\n> Why?\r\n", &qs), [(1, false), (2, true)]);
/// assert_eq!(answered("", &qs), [(1, false), (2, false)]);
/// ```
pub fn answered(text: &str, questions: &[Question]) -> Vec<(u32, bool)> {
    let text = capped(text);
    let wanted: BTreeMap<u32, String> = questions
        .iter()
        .map(|q| (q.number, collapse(&q.text)))
        .collect();
    let mut answered = BTreeSet::new();
    // The section being read: its number and heading level, and its lines.
    let mut section: Option<(u32, usize)> = None;
    let mut body: Vec<&str> = Vec::new();
    let mut fence = Fence::default();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !fence.inside(line)
            && let Some((level, title)) = heading(line)
        {
            let number = question_number(title);
            let ends = match section {
                Some((_, open)) => level <= open,
                None => true,
            };
            if ends || number.is_some() {
                if let Some((n, _)) = section.take()
                    && let Some(question) = wanted.get(&n)
                    && has_answer(&body, question)
                {
                    answered.insert(n);
                }
                body.clear();
                section = number.map(|n| (n, level));
                continue;
            }
        }
        if section.is_some() {
            body.push(line);
        }
    }
    if let Some((n, _)) = section
        && let Some(question) = wanted.get(&n)
        && has_answer(&body, question)
    {
        answered.insert(n);
    }
    questions
        .iter()
        .map(|q| (q.number, answered.contains(&q.number)))
        .collect()
}

/// [`answered`] for the `ANSWERS.md` in `crate_dir`: a missing, unreadable
/// or non-regular file (a symbolic link is not followed, a FIFO not
/// waited on) answers nothing; at most [`MAX_BYTES`] are read; bytes that
/// are not UTF-8 are replaced.
pub fn answered_in(crate_dir: &Path, questions: &[Question]) -> Vec<(u32, bool)> {
    let text = read_capped(&crate_dir.join(FILE)).unwrap_or_default();
    answered(&text, questions)
}

/// The report's answers of a crate: each question answered or not, with
/// its points from the crate's `tests/points.toml`, unmarked.
pub fn report_answers(answered: &[(u32, bool)], points: &Points) -> Vec<Answer> {
    answered
        .iter()
        .map(|&(number, answered)| Answer {
            number,
            answered,
            points: points.question(number),
            mark: None,
        })
        .collect()
}

/// At most [`MAX_BYTES`] of `path`, a regular file opened without
/// following a link nor blocking on a FIFO.
fn read_capped(path: &Path) -> Option<String> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let flags = nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `text` cut to at most [`MAX_BYTES`], at a character boundary.
fn capped(text: &str) -> &str {
    if text.len() <= MAX_BYTES {
        return text;
    }
    let mut end = MAX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An ATX heading: its level (1 to 6) and its text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let line = line
        .strip_prefix("   ")
        .or(line.strip_prefix("  "))
        .unwrap_or(line);
    let line = line.strip_prefix(' ').unwrap_or(line);
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let rest = &line[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// The question a heading's text names: `3`, `3.`, `Question 3`, `Q3:
/// why…`, `question 3) …`.
fn question_number(title: &str) -> Option<u32> {
    let lower = title.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("question")
        .or_else(|| lower.strip_prefix('q'))
        .unwrap_or(&lower)
        .trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let after = &rest[digits..];
    let ends_well = after.is_empty()
        || after.starts_with(['.', ':', ')', ' ', '\t'])
        || after.starts_with(" -")
        || after.starts_with('\u{2014}');
    if !ends_well {
        return None;
    }
    rest[..digits].parse().ok().filter(|n| *n > 0)
}

/// True if `body` holds a letter or digit beyond the placeholder and the
/// question quoted unchanged.
fn has_answer(body: &[&str], question: &str) -> bool {
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i].trim();
        if line.starts_with('>') {
            // A block quote: the question as the template quoted it is no
            // answer; a quote changed in any way is the student's.
            let start = i;
            while i < body.len() && body[i].trim().starts_with('>') {
                i += 1;
            }
            let quoted: Vec<&str> = body[start..i]
                .iter()
                .map(|l| l.trim().trim_start_matches('>'))
                .collect();
            if collapse(&quoted.join(" ")) != question {
                rest.extend(&body[start..i]);
            }
            continue;
        }
        if line != PLACEHOLDER {
            rest.push(line);
        }
        i += 1;
    }
    rest.iter()
        .any(|line| line.chars().any(char::is_alphanumeric))
}

/// The points of each crate's questions, by crate then question number:
/// what [`read_marks`] checks the marks against.
pub type Scheme = BTreeMap<String, BTreeMap<u32, u32>>;

/// The scheme of `crates`: each crate's questions (its handout, in the
/// reference workspace's `exercises/<crate>`) with their points.
///
/// # Errors
/// A handout or points file that cannot be read.
pub fn scheme(reference: &crate::workspace::Workspace, crates: &[String]) -> Result<Scheme> {
    let mut scheme = Scheme::new();
    for krate in crates {
        let dir = reference.crate_dir(krate);
        let points = Points::read(&dir)?;
        let questions = read_questions(&dir)?;
        scheme.insert(
            krate.clone(),
            questions
                .iter()
                .map(|q| (q.number, points.question(q.number)))
                .collect(),
        );
    }
    Ok(scheme)
}

/// The instructor's marks, by student, crate and question.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    marks: BTreeMap<(String, String, u32), f64>,
}

impl Marks {
    /// The mark of `student`'s answer to `question` of `krate`, if marked.
    pub fn get(&self, student: &str, krate: &str, question: u32) -> Option<f64> {
        self.marks
            .get(&(student.to_owned(), krate.to_owned(), question))
            .copied()
    }

    /// Every mark: student, crate, question, mark.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, u32, f64)> {
        self.marks
            .iter()
            .map(|((s, c, q), m)| (s.as_str(), c.as_str(), *q, *m))
    }

    /// How many answers are marked.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// No answer is marked.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// The students with at least one mark.
    pub fn students(&self) -> BTreeSet<&str> {
        self.marks.keys().map(|(s, _, _)| s.as_str()).collect()
    }

    /// Writes `student`'s marks into `report` (each answer's
    /// [`Answer::mark`]) and rescores it. Returns how many were applied.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the student and crate (or question) when
    /// the marks give a mark in a crate the report did not grade, to a
    /// question it does not have, or above the question's points. The
    /// report is left unchanged then.
    pub fn apply(&self, student: &str, report: &mut Report) -> Result<usize> {
        let mut applied = report.clone();
        let mut count = 0;
        for ((s, krate, question), mark) in &self.marks {
            if s != student {
                continue;
            }
            let Some(graded) = applied.crates.iter_mut().find(|c| &c.name == krate) else {
                return Err(Error::Usage(format!(
                    "the marks give {student} a mark in {krate}, which was not graded for {student}: \
                     remove it from the marks, or grade {krate} too"
                )));
            };
            let Some(answer) = graded.answers.iter_mut().find(|a| a.number == *question) else {
                return Err(Error::Usage(format!(
                    "the marks give {student} a mark for {krate} question {question}, which {krate}'s handout does not have"
                )));
            };
            if *mark > f64::from(answer.points) {
                return Err(Error::Usage(format!(
                    "the marks give {student} {} for {krate} question {question}, which carries {} point{}",
                    report::number(*mark),
                    answer.points,
                    if answer.points == 1 { "" } else { "s" }
                )));
            }
            answer.mark = Some(*mark);
            count += 1;
        }
        for krate in &mut applied.crates {
            krate.rescore();
        }
        applied.rescore();
        *report = applied;
        Ok(count)
    }

    /// [`Marks::apply`] to a class: `reports` are the students graded, by
    /// name.
    ///
    /// # Errors
    /// [`Error::Usage`] naming a student with marks who was not graded
    /// (checked before any report changes), or as [`Marks::apply`].
    pub fn apply_class<'a, I>(&self, reports: I) -> Result<usize>
    where
        I: IntoIterator<Item = (&'a str, &'a mut Report)>,
    {
        let reports: Vec<(&str, &mut Report)> = reports.into_iter().collect();
        let graded: BTreeSet<&str> = reports.iter().map(|(s, _)| *s).collect();
        if let Some(missing) = self.students().into_iter().find(|s| !graded.contains(s)) {
            return Err(Error::Usage(format!(
                "the marks give marks to {missing}, who was not graded: remove the row, or grade {missing}'s submission too"
            )));
        }
        let mut count = 0;
        for (student, report) in reports {
            count += self.apply(student, report)?;
        }
        Ok(count)
    }
}

/// Reads the class table an instructor marked (`class.csv` as the grader
/// wrote it, [`crate::report::Class::csv`], with marks in the question
/// columns `CRATE Qn`).
///
/// A cell `answered`, `blank` or empty is not marked; anything else must
/// be a non-negative number with a decimal point if any (`1`, `1.5`, `.5`)
/// of at most the question's points. The first column must be `student`
/// (names as [`crate::report::csv_field`] wrote them: a `'` it put before
/// `=`, `+`, `-`, `@` is taken away again); other columns (a crate's
/// score, the totals, columns of the instructor's own) are ignored. Fields
/// follow RFC 4180 (quotes, doubled quotes, line breaks inside quotes; CRLF
/// or LF); a spreadsheet's byte order mark is skipped, and a table saved
/// with `;` between fields (as spreadsheets do where the decimal mark is a
/// comma) is read with `;`, and `1,5` is then a mark too.
///
/// ```
/// use ipc_grade::answers::{Scheme, read_marks};
/// let scheme = Scheme::from([("exp7-shm".to_owned(), [(1, 2), (2, 1)].into())]);
/// let csv = "student,exp7-shm,exp7-shm Q1,exp7-shm Q2,score,total,percent\n\
///            alice,9/12,1.5,answered,9,12,75.0\n'=bob,0/12,blank,,0,12,0.0\n";
/// let marks = read_marks(csv, &scheme).unwrap();
/// assert_eq!(marks.get("alice", "exp7-shm", 1), Some(1.5));
/// assert_eq!(marks.len(), 1);
/// let wrong = read_marks(&csv.replace("1.5", "3"), &scheme).unwrap_err();
/// assert!(wrong.to_string().contains("row 2 (alice), column exp7-shm Q1: 3"), "{wrong}");
/// ```
///
/// # Errors
/// [`Error::Usage`] naming the row (its line in the file, and the
/// student), the column and the value at fault; a question column of a
/// crate or question not in `scheme` that holds a mark; a student given
/// twice; unbalanced quotes.
pub fn read_marks(csv: &str, scheme: &Scheme) -> Result<Marks> {
    let csv = csv.strip_prefix('\u{feff}').unwrap_or(csv);
    let first = csv.lines().next().unwrap_or("");
    let delimiter = if !first.contains(',') && first.contains(';') {
        ';'
    } else {
        ','
    };
    let records = parse_csv(csv, delimiter)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err(Error::Usage(
            "the marks file is empty: give the class.csv the grader wrote, with marks in its question columns".into(),
        ));
    };
    if header.first().map(|h| h.trim()) != Some("student") {
        return Err(Error::Usage(
            "the marks file's first column is not `student`: give the class.csv the grader wrote"
                .into(),
        ));
    }
    // The question columns: index, crate, question.
    let mut columns: Vec<(usize, String, u32)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, name) in header.iter().enumerate().skip(1) {
        let name = unescape(name.trim());
        if !seen.insert(name.clone()) {
            return Err(Error::Usage(format!(
                "the marks file has two columns named {name}"
            )));
        }
        if let Some((krate, q)) = name.rsplit_once(" Q")
            && let Ok(q) = q.parse::<u32>()
        {
            columns.push((i, krate.to_owned(), q));
        }
    }
    let mut marks = Marks::default();
    let mut students = BTreeSet::new();
    for (line, row) in rows {
        if row.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let student = unescape(row[0].trim());
        let at =
            |column: &str, value: &str| format!("row {line} ({student}), column {column}: {value}");
        if student.is_empty() {
            return Err(Error::Usage(format!(
                "row {line}: no student named in the first column"
            )));
        }
        if !students.insert(student.clone()) {
            return Err(Error::Usage(format!(
                "row {line}: {student} has a row already: keep one row per student"
            )));
        }
        if let Some((i, cell)) = row
            .iter()
            .enumerate()
            .skip(header.len())
            .find(|(_, c)| !c.trim().is_empty())
        {
            return Err(Error::Usage(format!(
                "row {line} ({student}): cell {} ({}) lies past the last column of the header",
                i + 1,
                cell.trim()
            )));
        }
        for (i, krate, question) in &columns {
            let value = row.get(*i).map_or("", |c| c.trim());
            if matches!(value, "" | "answered" | "blank") {
                continue;
            }
            let column = report::question_column(krate, *question);
            let Some(mark) = mark_value(value, delimiter == ';') else {
                return Err(Error::Usage(format!(
                    "{}: expected a mark (a number such as 1 or 1.5), `answered`, `blank` or nothing",
                    at(&column, value)
                )));
            };
            let Some(questions) = scheme.get(krate) else {
                return Err(Error::Usage(format!(
                    "{}: {krate} is not a crate graded here",
                    at(&column, value)
                )));
            };
            let Some(points) = questions.get(question) else {
                return Err(Error::Usage(format!(
                    "{}: {krate}'s handout has no question {question}",
                    at(&column, value)
                )));
            };
            if mark > f64::from(*points) {
                return Err(Error::Usage(format!(
                    "{}: more than the question's {points} point{}",
                    at(&column, value),
                    if *points == 1 { "" } else { "s" }
                )));
            }
            marks
                .marks
                .insert((student.clone(), krate.clone(), *question), mark);
        }
    }
    Ok(marks)
}

/// Reads a marks file ([`read_marks`]), at most [`MAX_BYTES`] × 16.
///
/// # Errors
/// The file cannot be read, is too large, or [`read_marks`] refuses it
/// (the message names the file).
pub fn read_marks_file(path: &Path, scheme: &Scheme) -> Result<Marks> {
    let limit = 16 * MAX_BYTES as u64;
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Usage(format!("reading the marks {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Usage(format!("reading the marks {}: {e}", path.display())))?;
    if bytes.len() as u64 > limit {
        return Err(Error::Usage(format!(
            "{}: larger than {} MiB: is it the class table?",
            path.display(),
            limit >> 20
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Usage(format!(
            "{}: not UTF-8 text: save the table as CSV (UTF-8)",
            path.display()
        ))
    })?;
    read_marks(&text, scheme).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// A mark: digits with at most one decimal point (a comma too, when
/// `comma`), and at least one digit.
fn mark_value(value: &str, comma: bool) -> Option<f64> {
    let value = if comma {
        value.replacen(',', ".", 1)
    } else {
        value.to_owned()
    };
    let (whole, fraction) = value.split_once('.').unwrap_or((&value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || whole.len() + fraction.len() == 0 {
        return None;
    }
    value.parse::<f64>().ok().filter(|m| m.is_finite())
}

/// A cell as [`report::csv_field`] escaped it, unescaped: the `'` put
/// before a leading `=`, `+`, `-`, `@`, tab or carriage return removed.
fn unescape(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// RFC 4180 records with the line each starts on (from 1). A quote inside
/// an unquoted field, or text after a closing quote, is kept as written.
///
/// # Errors
/// [`Error::Usage`] for a quoted field never closed.
fn parse_csv(text: &str, delimiter: char) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    // The field began with a quote, so a delimiter inside it is text.
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            c if c == delimiter => {
                record.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
                at_start = true;
            }
            _ => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(Error::Usage(format!(
            "the marks file's row {start} opens a quoted field (\") that never closes"
        )));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start, record));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::{Declared, Weight};
    use crate::report::{Check, CrateReport};
    use rand::{Rng, SeedableRng};

    const HANDOUT: &str = "# exp0: a demo\n\n## Questions\n\n\
        Answer briefly.\n\n\
        1. The receiver starts before the sender. Why does\n   `Receiver received: …` never appear first?\n\
        2. Where is the receiver while the sender sleeps?\n\n\
        3. Try `q.try_get()`:\n   what changes?\n\n   Say why.\n\n\
        ```sh\n# not a heading\n4. not an item\n```\n\n\
        ## Clean-up\n\n1. not a question\n";

    #[test]
    fn the_questions_are_the_numbered_list_unwrapped() {
        let qs = questions(HANDOUT).unwrap();
        let texts: Vec<(u32, &str)> = qs.iter().map(|q| (q.number, q.text.as_str())).collect();
        assert_eq!(
            texts,
            [
                (
                    1,
                    "The receiver starts before the sender. Why does `Receiver received: …` never appear first?"
                ),
                (2, "Where is the receiver while the sender sleeps?"),
                (3, "Try `q.try_get()`: what changes? Say why."),
            ]
        );
        // CRLF handouts read the same.
        assert_eq!(questions(&HANDOUT.replace('\n', "\r\n")).unwrap(), qs);
    }

    #[test]
    fn every_handout_of_the_workspace_has_its_questions() {
        let ws = crate::workspace::Workspace::own().unwrap();
        for krate in ws.experiments().unwrap() {
            let qs = read_questions(&ws.crate_dir(&krate)).unwrap();
            assert!(qs.len() >= 4, "{krate}: {qs:?}");
            assert!(
                qs.iter().all(|q| q.text.ends_with(['?', ')', '.'])),
                "{krate}: {qs:?}"
            );
            let blank = template(&krate, &qs);
            assert!(answered(&blank, &qs).iter().all(|(_, a)| !a), "{krate}");
        }
    }

    #[test]
    fn a_broken_handout_is_refused_saying_what_is_wrong() {
        for (text, needle) in [
            ("# x\n\n1. a\n", "no `## Questions` heading"),
            (
                "## Questions\n\nnone\n## Next\n1. a\n",
                "no numbered question",
            ),
            (
                "## Questions\n\n1. a\n2. b\n4. c\n",
                "question 4 comes where 3 should",
            ),
            ("## Questions\n\n2. a\n", "question 2 comes where 1 should"),
            (
                "```\n## Questions\n```\n1. a\n",
                "no `## Questions` heading",
            ),
        ] {
            let error = questions(text).unwrap_err().to_string();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }

    fn qs() -> Vec<Question> {
        questions(HANDOUT).unwrap()
    }

    #[test]
    fn the_template_names_the_crate_and_answers_nothing() {
        let text = template("exp0", &qs());
        assert!(text.starts_with("# Answers: exp0\n\n"), "{text}");
        assert!(text.contains("scripts/grade.sh"), "{text}");
        assert_eq!(text.matches("\n## Question ").count(), 3, "{text}");
        assert_eq!(text.matches(PLACEHOLDER).count(), 3, "{text}");
        // The long question is wrapped, every line quoted, none too wide.
        assert!(
            text.contains("\n> The receiver starts before the sender. Why does"),
            "{text}"
        );
        assert!(
            text.lines().all(|l| l.chars().count() <= WIDTH + 2),
            "{text}"
        );
        assert_eq!(answered(&text, &qs()), [(1, false), (2, false), (3, false)]);
        assert_eq!(
            answered(&text.replace('\n', "\r\n"), &qs()),
            [(1, false), (2, false), (3, false)]
        );
    }

    #[test]
    fn an_answer_is_text_of_the_students_own_under_its_heading() {
        let blank = template("exp0", &qs());
        // The text with the placeholder under question n replaced.
        let answer = |n: usize, with: &str| {
            let parts: Vec<&str> = blank.split(PLACEHOLDER).collect();
            let mut text = parts[0].to_owned();
            for (i, part) in parts.iter().enumerate().skip(1) {
                text.push_str(if i == n { with } else { PLACEHOLDER });
                text.push_str(part);
            }
            text
        };
        for (with, expected) in [
            ("It blocks in get.", true),
            ("   \t ", false),
            ("- . -", false),
            ("`42`", true),
            ("> a quote of my own", true),
            ("### Detail\n\nsee above", true),
        ] {
            let text = answer(2, with);
            assert_eq!(answered(&text, &qs())[1], (2, expected), "{with:?}\n{text}");
        }
        // A changed quote is the student's; an unchanged one, however
        // wrapped, is not.
        let requoted = blank.replace(
            "> The receiver starts before the sender. Why does `Receiver received: …`\n> never",
            ">   The receiver starts before\n>the sender. Why does `Receiver received: …` never\n>",
        );
        assert_ne!(requoted, blank);
        assert_eq!(answered(&requoted, &qs())[0], (1, false));
        let changed = blank.replace("Where is the receiver", "Where was the receiver");
        assert_eq!(answered(&changed, &qs())[1], (2, true));
    }

    #[test]
    fn sections_may_be_reordered_renamed_deleted_or_repeated() {
        let text = "# mine\n\nintro text\n\n## 3.\nThree.\n\n## Question 1: why\n\n_(write your answer here, in place of this line)_\n\n\
                    ## q2\n\n## Question 2\nTwo.\n## Notes\nnot an answer to 3\n";
        assert_eq!(answered(text, &qs()), [(1, false), (2, true), (3, true)]);
        // Text outside any question's section answers nothing.
        assert_eq!(
            answered("# mine\nAll of it.\n## Notes\nMore.\n", &qs()),
            [(1, false), (2, false), (3, false)]
        );
        // A question the handout does not have is ignored; a heading in a
        // code block is text.
        assert_eq!(
            answered(
                "## Question 9\nx\n## Question 1\n```\n## Question 2\n```\n",
                &qs()
            ),
            [(1, true), (2, false), (3, false)]
        );
        assert_eq!(answered("## 1\n# Title\nlater\n", &qs())[0], (1, false));
    }

    #[test]
    fn a_missing_huge_or_hostile_file_answers_what_it_can() {
        let dir = ipc_testkit::TempDir::new("answers");
        assert_eq!(
            answered_in(dir.path(), &qs()),
            [(1, false), (2, false), (3, false)]
        );
        // Past MAX_BYTES nothing is read.
        let mut huge = String::from("## Question 1\nyes\n");
        huge.push_str(&"é".repeat(MAX_BYTES / 2 - 5));
        huge.push_str("\n## Question 2\nlate\n");
        std::fs::write(dir.join(FILE), &huge).unwrap();
        assert_eq!(
            answered_in(dir.path(), &qs()),
            [(1, true), (2, false), (3, false)]
        );
        assert_eq!(answered(&huge, &qs())[1], (2, false));
        // A link is not followed; a FIFO is not waited on.
        std::fs::remove_file(dir.join(FILE)).unwrap();
        std::fs::write(dir.join("real.md"), "## 1\nyes\n").unwrap();
        std::os::unix::fs::symlink(dir.join("real.md"), dir.join(FILE)).unwrap();
        assert_eq!(answered_in(dir.path(), &qs())[0], (1, false));
        std::fs::remove_file(dir.join(FILE)).unwrap();
        nix::unistd::mkfifo(&dir.join(FILE), nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert_eq!(answered_in(dir.path(), &qs())[0], (1, false));
        // Not UTF-8: replaced, still read.
        std::fs::remove_file(dir.join(FILE)).unwrap();
        std::fs::write(dir.join(FILE), b"## 1\n\xff\xfe ok\n").unwrap();
        assert_eq!(answered_in(dir.path(), &qs())[0], (1, true));
    }

    #[test]
    fn no_input_makes_it_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(19);
        let template = template("exp0", &qs());
        let pieces = [
            "## Question ",
            "## ",
            "#",
            "###### 1.",
            "> ",
            ">",
            "```",
            "~~~",
            "\r\n",
            "\n",
            "1. ",
            "99999999999",
            "4294967296",
            "Q",
            "é",
            "\u{feff}",
            PLACEHOLDER,
            " ",
            "\t",
            "0",
            "## Questions\n",
        ];
        for round in 0..3000 {
            let text = match round % 3 {
                0 => {
                    let bytes: Vec<u8> = (0..rng.random_range(0..300))
                        .map(|_| rng.random())
                        .collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                1 => {
                    let mut end = rng.random_range(0..=template.len());
                    while !template.is_char_boundary(end) {
                        end -= 1;
                    }
                    template[..end].to_owned()
                }
                _ => (0..rng.random_range(0..40))
                    .map(|_| pieces[rng.random_range(0..pieces.len())])
                    .collect(),
            };
            let result = answered(&text, &qs());
            assert_eq!(result.len(), 3, "{text:?}");
            let _ = questions(&text);
            let _ = read_marks(&text, &Scheme::new());
        }
    }

    fn report(student_answers: &[(u32, bool)]) -> Report {
        let declared = Declared {
            weight: Weight::Points(4),
            hidden: false,
            regions: Vec::new(),
        };
        let mut check = Check::new("output::a", &declared);
        check.settle(true, None);
        let points = Points::parse("[questions]\n2 = 2\n", "p").unwrap();
        Report::new(
            "alice",
            vec![CrateReport::new(
                "exp0",
                None,
                vec![check],
                report_answers(student_answers, &points),
            )],
        )
    }

    fn scheme0() -> Scheme {
        Scheme::from([("exp0".to_owned(), BTreeMap::from([(1, 1), (2, 2), (3, 1)]))])
    }

    #[test]
    fn marks_are_read_from_the_class_table_the_grader_wrote() {
        let class = crate::report::Class {
            crates: vec!["exp0".into()],
            questions: BTreeMap::from([("exp0".into(), vec![1, 2, 3])]),
            students: ["alice", "=bob", "carol, \"c\""]
                .iter()
                .map(|name| crate::report::Row {
                    student: (*name).into(),
                    scores: BTreeMap::from([(
                        "exp0".into(),
                        crate::report::Cell {
                            score: 4.0,
                            total: 4.0,
                            answers: report(&[(1, true), (2, true), (3, false)]).crates[0]
                                .answers
                                .clone(),
                        },
                    )]),
                    score: 4.0,
                    total: 4.0,
                    report: format!("{name}.json"),
                    error: None,
                })
                .collect(),
        };
        let csv = class.csv();
        // Unmarked, it marks nothing.
        assert!(read_marks(&csv, &scheme0()).unwrap().is_empty());
        // The instructor marks some cells, as a spreadsheet would save
        // them (CRLF, a byte order mark).
        let marked = csv
            .replacen("answered,answered,blank", "1,1.5,", 1)
            .replacen("answered,answered,blank", ".5,2,0", 1)
            .replace('\n', "\r\n");
        let marks = read_marks(&format!("\u{feff}{marked}"), &scheme0()).unwrap();
        assert_eq!(marks.get("alice", "exp0", 1), Some(1.0));
        assert_eq!(marks.get("alice", "exp0", 2), Some(1.5));
        assert_eq!(marks.get("alice", "exp0", 3), None);
        assert_eq!(marks.get("=bob", "exp0", 1), Some(0.5));
        assert_eq!(marks.get("=bob", "exp0", 3), Some(0.0));
        assert_eq!(marks.len(), 5);
        assert_eq!(
            marks.students().into_iter().collect::<Vec<_>>(),
            ["=bob", "alice"]
        );
        // Saved with semicolons and decimal commas.
        let semi = "student;exp0;exp0 Q2\nalice;4/4;\"1,5\"\n";
        assert_eq!(
            read_marks(semi, &scheme0())
                .unwrap()
                .get("alice", "exp0", 2),
            Some(1.5)
        );
    }

    #[test]
    fn a_wrong_mark_names_its_row_column_and_value() {
        let head = "student,exp0,exp0 Q1,exp0 Q2,score,total,percent\n";
        for (rows, needle) in [
            (
                "alice,4/4,-1,,4,4,100\n",
                "row 2 (alice), column exp0 Q1: -1: expected a mark",
            ),
            ("alice,4/4,1e0,,4,4,100\n", "column exp0 Q1: 1e0"),
            ("alice,4/4,NaN,,4,4,100\n", "column exp0 Q1: NaN"),
            ("alice,4/4,.,,4,4,100\n", "column exp0 Q1: ."),
            (
                "alice,4/4,,2.5,4,4,100\n",
                "column exp0 Q2: 2.5: more than the question's 2 points",
            ),
            ("alice,4/4,,1 point,4,4,100\n", "column exp0 Q2: 1 point"),
            (
                "\nbob,4/4,1,,4,4,100\nbob,4/4,,,4,4,100\n",
                "row 4: bob has a row already",
            ),
            (
                "alice,4/4,1,,4,4,100,,x\n",
                "row 2 (alice): cell 9 (x) lies past",
            ),
            (",4/4,1,,4,4,100\n", "row 2: no student"),
            ("\"alice,4/4,1\n", "row 2 opens a quoted field"),
        ] {
            let error = read_marks(&format!("{head}{rows}"), &scheme0()).unwrap_err();
            assert!(matches!(error, Error::Usage(_)), "{error:?}");
            assert!(error.to_string().contains(needle), "{rows:?}: {error}");
        }
        for (csv, needle) in [
            ("", "empty"),
            ("name,exp0 Q1\n", "first column is not `student`"),
            ("student,exp0 Q1,exp0 Q1\n", "two columns named exp0 Q1"),
            (
                "student,exp9 Q1\nalice,1\n",
                "exp9 is not a crate graded here",
            ),
            (
                "student,exp0 Q7\nalice,1\n",
                "exp0's handout has no question 7",
            ),
        ] {
            let error = read_marks(csv, &scheme0()).unwrap_err().to_string();
            assert!(error.contains(needle), "{csv:?}: {error}");
        }
        // Columns of the instructor's own, and unknown question columns
        // without marks, are fine.
        let marks = read_marks(
            "student,notes,exp9 Q1,exp0 Q1\nalice,\"good, \"\"very\"\"\",,1\n",
            &scheme0(),
        )
        .unwrap();
        assert_eq!(marks.get("alice", "exp0", 1), Some(1.0));
    }

    #[test]
    fn marks_add_to_the_scores_and_refuse_what_was_not_graded() {
        let csv = "student,exp0 Q1,exp0 Q2\nalice,1,1.5\n";
        let marks = read_marks(csv, &scheme0()).unwrap();
        let mut alice = report(&[(1, true), (2, true), (3, false)]);
        assert_eq!((alice.score, alice.total), (4.0, 4.0));
        assert_eq!(marks.apply("alice", &mut alice).unwrap(), 2);
        // 4 + 1 + 1.5 of 4 + (1 + 2 + 1): every question counts once one
        // is marked.
        assert_eq!((alice.score, alice.total), (6.5, 8.0));
        assert_eq!(alice.crates[0].answers[1].mark, Some(1.5));
        assert!(alice.text().contains("exp0: question 2 ... marked 1.5/2"));

        let mut bob = report(&[]);
        let error = marks
            .apply_class([("bob", &mut bob)])
            .unwrap_err()
            .to_string();
        assert!(error.contains("alice, who was not graded"), "{error}");

        let other = read_marks("student,exp0 Q1\nalice,1\n", &scheme0()).unwrap();
        let mut elsewhere = report(&[(1, true)]);
        elsewhere.crates[0].name = "exp1".into();
        let before = elsewhere.clone();
        let error = other
            .apply("alice", &mut elsewhere)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a mark in exp0, which was not graded for alice"),
            "{error}"
        );
        assert_eq!(elsewhere, before, "a refused apply changes nothing");

        let mut fresh = report(&[(1, true), (2, true), (3, false)]);
        let mut other_student = report(&[(1, true)]);
        assert_eq!(
            marks
                .apply_class([("alice", &mut fresh), ("dan", &mut other_student)])
                .unwrap(),
            2
        );
        assert_eq!(fresh.score, 6.5);
        assert_eq!(other_student.score, 4.0);
    }
}
