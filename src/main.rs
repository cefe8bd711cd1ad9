//! `twindoc`, the command line of the twin engine: create twins, write their sections, merge
//! plain JSON, validate a twin against IoT Hub's limits and show what a device sees.
//!
//! Conventions, shared by every subcommand:
//! - Inputs are file paths, or `-` for standard input (at most one input per command). An input
//!   is read up to [`Limits::max_input_bytes`] and must be UTF-8 JSON.
//! - The result is compact JSON on standard output, then a newline (`--pretty` indents it).
//!   `patch` and `replace` with `--in-place` write the twin to its file instead.
//! - A rejected input (malformed JSON, a body breaking a limit, a failed precondition, a bad time)
//!   exits 1, prints nothing on standard output and one line of JSON on standard error:
//!   `{"code":"InvalidKey","status":400,"errorCode":400004,"path":"/a/b c","message":"..."}`.
//! - A usage problem (bad arguments, a file that cannot be read, output that cannot be written)
//!   exits 2 with a one-line message on standard error; an argument the engine refuses (`--now`,
//!   a device or module id IoT Hub would refuse, the query text) exits 2 with the JSON error line.
//! - `validate` prints its report, and exits 1 when the twin is invalid, also when the input is
//!   not JSON (one `InvalidJson` violation); a JSON value that is not a twin is refused as usual.
//! - `configure` reads its configurations first: a malformed one exits 1 with its error line
//!   (the path a JSON Pointer into them) before any twin is read. It then reads every twin (as
//!   `query` does), applies, and prints `{"twins": [...], "metrics": {...}, "failures": [...]}`;
//!   it exits 1 when a twin's write failed (that twin is printed unchanged and listed).
//! - `query` streams: its inputs are read twin by twin (not capped as a whole; each twin is capped
//!   at [`twindoc::DEFAULT_MAX_INPUT_BYTES`] of text) and rows are written as they come, so that
//!   memory does not grow with the number of twins unless the query aggregates. A bad twin stops
//!   it with exit 1 and the JSON error line; output still buffered (the first 64 KiB) is dropped,
//!   rows written before that stay on standard output.
//!
//! The engine reads no clock: without `--now` the time of a write is taken here, from the system.

#![forbid(unsafe_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserializer, Serialize};
use serde_json::Value;
use twindoc::{
    Configurations, DeviceTwin, Error, ErrorKind, FleetApplication, Limits, LimitsBase, LimitsOverrides, Query,
    Section, TimeInput, Timestamp, Twin, ValidationReport, WriteOptions, WriteOutcome,
};

/// Azure IoT Hub device twin documents: writes, metadata, versions and limits.
#[derive(Parser)]
#[command(name = "twindoc", version)]
struct Cli {
    /// Indent the JSON output.
    #[arg(long, global = true)]
    pretty: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A new device (or module) twin, as IoT Hub creates it.
    New {
        /// The device id.
        device_id: String,
        /// Make a module twin with this module id.
        #[arg(long)]
        module: Option<String>,
        /// The creation time: RFC 3339 text or Unix milliseconds (default: the system clock).
        #[arg(long, allow_hyphen_values = true)]
        now: Option<String>,
    },
    /// Merge BODY into a section of TWIN (IoT Hub's PATCH).
    Patch(WriteArgs),
    /// Make BODY the content of a section of TWIN.
    Replace(WriteArgs),
    /// Merge PATCH into DOC by the twin merge rules, on plain JSON (no metadata, no limits).
    Merge {
        /// The JSON object to merge into (a file, or `-` for stdin).
        doc: PathBuf,
        /// The JSON object to merge (a file, or `-` for stdin).
        patch: PathBuf,
    },
    /// Every violation of IoT Hub's limits in TWIN; exits 1 when there is any.
    Validate {
        /// The twin document (a file, or `-` for stdin).
        twin: PathBuf,
    },
    /// The change from OLD to NEW: a merge patch (default) or RFC 6902 JSON Patch operations.
    Diff {
        /// The old JSON object or twin section (a file, or `-` for stdin).
        old: PathBuf,
        /// The new JSON object or twin section (a file, or `-` for stdin).
        new: PathBuf,
        /// The form of the change.
        #[arg(long, value_enum, default_value_t = DiffFormat::Merge)]
        format: DiffFormat,
    },
    /// What the device has not reached yet: desired members missing from or different in reported.
    Delta {
        /// A twin, or a device view `{"desired": {...}, "reported": {...}}` (a file, or `-` for stdin).
        twin: PathBuf,
    },
    /// What the device sees of TWIN: desired and reported without `$metadata`.
    DeviceView {
        /// A twin, or a device view `{"desired": {...}, "reported": {...}}` (a file, or `-` for stdin).
        twin: PathBuf,
    },
    /// The IoT Plug and Play digital twin of TWIN: each property's value, its desired value and
    /// acknowledgement, components and the model.
    DigitalTwin {
        /// The twin document (a file, or `-` for stdin).
        twin: PathBuf,
    },
    /// Apply RFC 6902 OPS to the digital twin of TWIN, as one desired write (IoT Hub's Update
    /// Digital Twin).
    PatchDigitalTwin(DigitalTwinWriteArgs),
    /// The rows of an IoT Hub query (`SELECT ... FROM devices ...`) over the twins of FILEs, in order.
    Query {
        /// The query text.
        query: String,
        /// Twin files (or `-` for stdin): each one twin, a JSON array of twins, or one twin a line.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print one row a line instead of one JSON array.
        #[arg(long)]
        ndjson: bool,
    },
    /// Apply automatic configurations to the twins of FILEs: the twins after, each
    /// configuration's metrics and the twins whose write failed (exits 1 when any did).
    Configure {
        /// One configuration, or a JSON array of them (a file, or `-` for stdin).
        configs: PathBuf,
        /// Twin files (or `-` for stdin): each one twin, a JSON array of twins, or one twin a line.
        #[arg(required = true, value_name = "TWINS")]
        twins: Vec<PathBuf>,
        /// The time of the writes: RFC 3339 text or Unix milliseconds (default: the system clock).
        #[arg(long, allow_hyphen_values = true)]
        now: Option<String>,
    },
}

/// The arguments of `patch` and `replace`.
#[derive(Args)]
struct WriteArgs {
    /// The twin document (a file, or `-` for stdin).
    twin: PathBuf,
    /// The body of the write, a JSON object (a file, or `-` for stdin).
    body: PathBuf,
    /// The section written, or `twin` for a twin-shaped body (tags and desired in one write).
    #[arg(long, value_enum)]
    section: SectionArg,
    /// The time of the write: RFC 3339 text or Unix milliseconds (default: the system clock).
    #[arg(long, allow_hyphen_values = true)]
    now: Option<String>,
    /// Write only if the twin's etag is ETAG (`*` for any).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    /// Write only if the section's `$version` is N.
    #[arg(long, value_name = "N")]
    if_version: Option<u64>,
    /// Switch IoT Hub's numeric limits off (the flags below still apply).
    #[arg(long)]
    no_limits: bool,
    /// The longest key, in UTF-8 bytes.
    #[arg(long, value_name = "N")]
    max_key_bytes: Option<usize>,
    /// The longest string value, in UTF-8 bytes.
    #[arg(long, value_name = "N")]
    max_value_bytes: Option<usize>,
    /// The deepest object or array, the section root being depth 0.
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// The largest tags section, in S4 bytes.
    #[arg(long, value_name = "N")]
    tags_bytes: Option<u64>,
    /// The largest desired section, in S4 bytes.
    #[arg(long, value_name = "N")]
    desired_bytes: Option<u64>,
    /// The largest reported section, in S4 bytes.
    #[arg(long, value_name = "N")]
    reported_bytes: Option<u64>,
    #[command(flatten)]
    output: WriteOutput,
}

/// The arguments of `patch-digital-twin`.
#[derive(Args)]
struct DigitalTwinWriteArgs {
    /// The twin document (a file, or `-` for stdin).
    twin: PathBuf,
    /// The RFC 6902 operations on the digital twin, a JSON array (a file, or `-` for stdin).
    ops: PathBuf,
    /// The time of the write: RFC 3339 text or Unix milliseconds (default: the system clock).
    #[arg(long, allow_hyphen_values = true)]
    now: Option<String>,
    /// Write only if the twin's etag is ETAG (`*` for any).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    output: WriteOutput,
}

/// What every write prints and where the twin goes.
#[derive(Args)]
struct WriteOutput {
    /// The hub's name, for the change events' `hubName`.
    #[arg(long, value_name = "NAME")]
    hub_name: Option<String>,
    /// What to print: the new twin, or what the write did.
    #[arg(long, value_enum, default_value_t = Print::Twin)]
    print: Print,
    /// Write the new twin to the TWIN file (atomically: it is replaced whole or left as it was)
    /// instead of printing it; what `--print` asks for besides the twin is still printed.
    #[arg(short = 'i', long)]
    in_place: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum SectionArg {
    Tags,
    Desired,
    Reported,
    /// A twin-shaped body: its tags and desired parts in one write (IoT Hub's update/replace twin).
    Twin,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum DiffFormat {
    /// A merge patch: `null` for removed members (S9 of docs/semantics.md).
    Merge,
    /// RFC 6902 operations with JSON Pointer paths.
    JsonPatch,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Print {
    /// The twin after the write.
    Twin,
    /// `{"version", "sectionVersion", "etag", "notification", "event", "digitalTwinEvent"}`.
    Outcome,
    /// The twin change event, `{"properties": {...}, "body": {...}}` (S13 of docs/semantics.md).
    Event,
    /// The digital twin change event, `{"properties": {...}, "body": [operations]}`, or `null`
    /// when the write left the digital twin as it was (S14).
    DigitalTwinEvent,
}

/// Why a command did not succeed.
enum Failure {
    /// The input was rejected: exit 1, its JSON error line on stderr.
    Rejected(Error),
    /// The command could not run as asked: exit 2, a one-line message on stderr.
    Usage(String),
    /// A command-line argument the engine refused (`--now`, an id, the query text): a usage
    /// error, so exit 2, with the JSON error line of a rejected input.
    BadArgument(Error),
}

impl Failure {
    fn rejected(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure::Rejected(Error::new(kind, "", message))
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Rejected(error)
    }
}

/// What a successful command prints, and whether its answer is a success (`validate` says no
/// when the twin is invalid).
struct Output {
    /// `None` when the result went elsewhere (`--in-place`).
    text: Option<String>,
    ok: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Query { query, files, ndjson } = &cli.command {
        return match run_query(query, files, *ndjson, cli.pretty) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => fail(failure),
        };
    }
    match run(&cli) {
        Ok(output) => match output
            .text
            .map_or(Ok(()), |text| writeln!(io::stdout().lock(), "{text}"))
        {
            Ok(()) if output.ok => ExitCode::SUCCESS,
            Ok(()) => ExitCode::from(1),
            Err(e) => fail(Failure::Usage(format!("cannot write the output: {e}"))),
        },
        Err(failure) => fail(failure),
    }
}

/// The one place failures are reported: prints the stderr line and picks the exit code.
fn fail(failure: Failure) -> ExitCode {
    // If stderr itself cannot be written to, the exit code is all that is left to say.
    match failure {
        Failure::Rejected(error) => error_line(&error, 1),
        Failure::BadArgument(error) => error_line(&error, 2),
        Failure::Usage(message) => {
            let _ = writeln!(io::stderr().lock(), "twindoc: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Prints `error` as its JSON line on stderr and exits with `code`.
fn error_line(error: &Error, code: u8) -> ExitCode {
    // Serializing a struct of strings and numbers cannot fail.
    let line = serde_json::to_string(error).unwrap_or_default();
    let _ = writeln!(io::stderr().lock(), "{line}");
    ExitCode::from(code)
}

fn run(cli: &Cli) -> Result<Output, Failure> {
    let pretty = cli.pretty;
    match &cli.command {
        Command::New { device_id, module, now } => {
            twindoc::check_device_id(device_id).map_err(Failure::BadArgument)?;
            if let Some(module) = module {
                twindoc::check_module_id(module).map_err(Failure::BadArgument)?;
            }
            let now = time(now.as_deref())?;
            let twin = match module {
                Some(module) => Twin::new_module(device_id, module, now),
                None => Twin::new(device_id, now),
            };
            Ok(twin_output(&twin, pretty))
        }
        Command::Patch(args) => write(args, false, pretty),
        Command::Replace(args) => write(args, true, pretty),
        Command::Merge { doc, patch } => {
            one_stdin(doc, patch)?;
            let limits = Limits::none();
            let mut doc = read_json("doc", doc, &limits)?;
            let patch = read_json("patch", patch, &limits)?;
            twindoc::merge(&mut doc, &patch)?;
            render(&doc, pretty, true)
        }
        Command::Validate { twin } => {
            let report = match read_twin(twin, &Limits::azure()) {
                Ok(twin) => ValidationReport::of(&twin),
                // Text that is not JSON is reported like any other violation; a JSON value that is
                // not a twin is refused, as everywhere.
                Err(Failure::Rejected(error)) if error.kind() == ErrorKind::InvalidJson => ValidationReport {
                    violations: vec![error],
                },
                Err(failure) => return Err(failure),
            };
            render(&report, pretty, report.is_valid())
        }
        Command::Diff { old, new, format } => {
            one_stdin(old, new)?;
            let limits = Limits::none();
            let (old, new) = (read_json("old", old, &limits)?, read_json("new", new, &limits)?);
            match format {
                DiffFormat::Merge => render(&twindoc::diff(&old, &new)?, pretty, true),
                DiffFormat::JsonPatch => render(&twindoc::diff_json_patch(&old, &new)?, pretty, true),
            }
        }
        Command::Delta { twin } => match read_twin_or_view(twin)? {
            TwinOrView::Twin(twin) => render(&twin.delta(), pretty, true),
            TwinOrView::View(view) => {
                // `$version` stays in desired: it is the version Plug and Play acknowledgements are
                // compared with.
                let desired = section_of_view(view.desired(), view.desired_version());
                let delta = twindoc::delta(&desired, &Value::Object(view.reported().clone()))?;
                render(&delta, pretty, true)
            }
        },
        Command::DeviceView { twin } => match read_twin_or_view(twin)? {
            TwinOrView::Twin(twin) => render(&twin.device_view(), pretty, true),
            TwinOrView::View(view) => {
                let mut out = serde_json::Map::new();
                out.insert(
                    "desired".into(),
                    section_of_view(view.desired(), view.desired_version()),
                );
                out.insert(
                    "reported".into(),
                    section_of_view(view.reported(), view.reported_version()),
                );
                render(&out, pretty, true)
            }
        },
        Command::DigitalTwin { twin } => render(&read_twin(twin, &Limits::none())?.digital_twin(), pretty, true),
        Command::PatchDigitalTwin(args) => patch_digital_twin(args, pretty),
        Command::Query { .. } => Err(Failure::Usage("query is run by run_query".into())),
        Command::Configure { configs, twins, now } => configure(configs, twins, now.as_deref(), pretty),
    }
}

/// `configure`: the configurations are read and checked before any twin is read, then applied to
/// every twin, in input order.
fn configure(configs: &Path, files: &[PathBuf], now: Option<&str>, pretty: bool) -> Result<Output, Failure> {
    if std::iter::once(configs)
        .chain(files.iter().map(PathBuf::as_path))
        .filter(|p| is_stdin(p))
        .count()
        > 1
    {
        return Err(Failure::Usage("only one input can be read from stdin (`-`)".into()));
    }
    let now = time(now)?;
    let configurations = Configurations::from_value(&read_json("configurations", configs, &Limits::none())?)?;
    let mut twins = Vec::new();
    for path in files {
        read_twins(path, &mut |twin| {
            twins.push(match twin {
                TwinInput::Text(text) => Twin::from_json(text)?,
                TwinInput::Value(value) => Twin::from_value(value)?,
            });
            Ok(true)
        })?;
    }
    let fleet = configurations.apply_all(&mut twins, now, &Limits::azure());
    #[derive(Serialize)]
    struct Configured<'a> {
        twins: &'a [Twin],
        #[serde(flatten)]
        fleet: &'a FleetApplication,
    }
    render(
        &Configured {
            twins: &twins,
            fleet: &fleet,
        },
        pretty,
        fleet.failures.is_empty(),
    )
}

/// `query`: reads the twins of `files` one at a time and writes each row as soon as it is known.
fn run_query(text: &str, files: &[PathBuf], ndjson: bool, pretty: bool) -> Result<(), Failure> {
    if files.iter().filter(|path| is_stdin(path)).count() > 1 {
        return Err(Failure::Usage("only one input can be read from stdin (`-`)".into()));
    }
    let query = Query::parse(text).map_err(Failure::BadArgument)?;
    let mut out = Rows {
        out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        ndjson,
        pretty,
        written: 0,
    };
    let mut run = query.start();
    let result = (|| {
        for path in files {
            if run.is_done() {
                break;
            }
            read_twins(path, &mut |twin| {
                // A twin's text is read whole only when the query selects it.
                let row = match twin {
                    TwinInput::Text(text) => run.push_json(text)?,
                    TwinInput::Value(value) => run.push(&Twin::from_value(value)?),
                };
                if let Some(row) = row {
                    out.row(&row)?;
                }
                Ok(!run.is_done())
            })?;
        }
        Ok(())
    })();
    if let Err(failure) = result {
        // What is still buffered is dropped unwritten: a failed query prints nothing if it can.
        let _ = out.out.into_parts();
        return Err(failure);
    }
    for row in run.finish() {
        out.row(&row)?;
    }
    out.end()
}

/// Rows written as one JSON array, or one a line.
struct Rows<W: Write> {
    out: W,
    ndjson: bool,
    pretty: bool,
    written: u64,
}

impl<W: Write> Rows<W> {
    fn row(&mut self, row: &Value) -> Result<(), Failure> {
        let text = match (self.ndjson, self.pretty) {
            (false, true) => serde_json::to_string_pretty(row).map(|t| t.replace('\n', "\n  ")),
            _ => serde_json::to_string(row),
        };
        let text = text.map_err(|e| Failure::Usage(format!("cannot write the output: {e}")))?;
        let separator = match (self.ndjson, self.pretty, self.written) {
            (true, _, _) => "",
            (false, false, 0) => "[",
            (false, false, _) => ",",
            (false, true, 0) => "[\n  ",
            (false, true, _) => ",\n  ",
        };
        let end = if self.ndjson { "\n" } else { "" };
        self.written += 1;
        write!(self.out, "{separator}{text}{end}").map_err(output_error)
    }

    fn end(mut self) -> Result<(), Failure> {
        let close = match (self.ndjson, self.pretty, self.written) {
            (true, _, _) => "",
            (false, _, 0) => "[]\n",
            (false, false, _) => "]\n",
            (false, true, _) => "\n]\n",
        };
        self.out.write_all(close.as_bytes()).map_err(output_error)?;
        self.out.flush().map_err(output_error)
    }
}

fn output_error(e: io::Error) -> Failure {
    Failure::Usage(format!("cannot write the output: {e}"))
}

/// A twin of an input, not yet read as a twin: the text of one value of a stream, or an element
/// of an array.
enum TwinInput<'a> {
    Text(&'a str),
    Value(Value),
}

/// Calls `each` with every twin of one input (one twin, a JSON array of twins, or twins one after
/// another, as NDJSON), one at a time, until `each` answers `false`. A twin `each` rejects
/// (`Failure::Rejected`) is named by its input and its place there.
fn read_twins(path: &Path, each: &mut dyn FnMut(TwinInput<'_>) -> Result<bool, Failure>) -> Result<(), Failure> {
    let unreadable = |e: io::Error| Failure::Usage(format!("cannot read {}: {e}", path.display()));
    let source: Box<dyn Read> = if is_stdin(path) {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(unreadable)?)
    };
    let name = match is_stdin(path) {
        true => "standard input".to_string(),
        false => path.display().to_string(),
    };
    let mut reader = BufReader::new(source);
    let first = loop {
        let buffer = reader.fill_buf().map_err(unreadable)?;
        let Some(&first) = buffer.first() else { break None };
        if first.is_ascii_whitespace() {
            reader.consume(1);
            continue;
        }
        break Some(first);
    };
    let mut count = 0;
    // A rejected twin is named by its input and its place there.
    let rejected = |count: usize, e: Error| {
        let message = format!("{name}, twin {count}: {}", e.message());
        Failure::Rejected(Error::new(e.kind(), e.path(), message))
    };
    let named = |count: usize, failure: Failure| match failure {
        Failure::Rejected(e) => rejected(count, e),
        other => other,
    };
    if first == Some(b'[') {
        let mut take = |value: Value| -> Result<bool, Failure> {
            count += 1;
            each(TwinInput::Value(value)).map_err(|f| named(count, f))
        };
        let malformed =
            |e: serde_json::Error| Failure::rejected(ErrorKind::InvalidJson, format!("{name}: malformed JSON: {e}"));
        let mut de = serde_json::Deserializer::from_reader(reader);
        let mut failure = None;
        let mut stopped = false;
        let result = de.deserialize_seq(EachElement {
            each: &mut take,
            failure: &mut failure,
            stopped: &mut stopped,
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        if stopped {
            return Ok(());
        }
        result.map_err(malformed)?;
        return de.end().map_err(malformed);
    }
    // One value after another: each twin's text is found first, then parsed from that text,
    // which is several times faster than parsing from a reader byte by byte.
    let mut take = |text: &[u8]| {
        count += 1;
        let text = std::str::from_utf8(text).map_err(|e| {
            let error = Error::new(ErrorKind::InvalidJson, "", format!("the input is not UTF-8: {e}"));
            rejected(count, error)
        })?;
        each(TwinInput::Text(text)).map_err(|f| named(count, f))
    };
    each_value_text(reader, &mut take, unreadable)
}

/// Calls `each` with the text of every JSON value of `source` (values one after another,
/// whitespace between them or not), until `each` answers `false`. The values are only delimited
/// here, not checked: text that is not JSON is handed on as it is, up to where its brackets stop
/// matching, for the parser to reject. The text held never exceeds one value and one read, and
/// a value is handed on past [`twindoc::DEFAULT_MAX_INPUT_BYTES`] unfinished, for the parser to
/// refuse as too large.
fn each_value_text(
    mut source: impl Read,
    each: &mut dyn FnMut(&[u8]) -> Result<bool, Failure>,
    unreadable: impl Fn(io::Error) -> Failure,
) -> Result<(), Failure> {
    const READ_BYTES: usize = 256 * 1024;
    let mut buffer = Vec::with_capacity(2 * READ_BYTES);
    let mut splitter = ValueSplitter::default();
    loop {
        while let Some(end) = splitter.next_end(&buffer) {
            let start = splitter.take_start();
            if !each(&buffer[start..end])? {
                return Ok(());
            }
        }
        // Only the value being scanned, if any, is kept.
        let keep = splitter.start.unwrap_or(buffer.len());
        buffer.drain(..keep);
        splitter.shift(keep);
        if buffer.len() > twindoc::DEFAULT_MAX_INPUT_BYTES {
            return each(&buffer).map(|_| ());
        }
        let filled = buffer.len();
        buffer.resize(filled + READ_BYTES, 0);
        let read = loop {
            match source.read(&mut buffer[filled..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(&unreadable)?,
            }
        };
        buffer.truncate(filled + read);
        if read == 0 {
            // The end of the input: what is left is one unfinished value (or a bare scalar).
            if splitter.start.is_some() {
                each(&buffer)?;
            }
            return Ok(());
        }
    }
}

/// Finds where each JSON value of a buffer ends, by its brackets and strings only, resuming
/// where the previous call stopped when the buffer has grown.
#[derive(Default)]
struct ValueSplitter {
    /// Where the value being scanned starts, once its first byte has been seen.
    start: Option<usize>,
    /// The next byte to look at.
    at: usize,
    /// The closing brackets expected, innermost last.
    closers: Vec<u8>,
    /// Inside a string; `escaped` after its backslash.
    in_string: bool,
    escaped: bool,
    /// The value is a bare scalar (a number, `true`...), ended by whitespace or a bracket.
    scalar: bool,
}

impl ValueSplitter {
    /// The end of the next whole value in `buffer` (its start is then [`ValueSplitter::take_start`]),
    /// or `None` when the buffer ends before it does.
    fn next_end(&mut self, buffer: &[u8]) -> Option<usize> {
        while self.at < buffer.len() {
            if self.escaped {
                // A backslash ended the previous buffer: the byte it escapes is skipped.
                self.escaped = false;
                self.at += 1;
                continue;
            }
            if self.in_string {
                // The string's bytes are skipped in one search.
                let rest = &buffer[self.at..];
                let Some(offset) = memchr::memchr2(b'"', b'\\', rest) else {
                    self.at = buffer.len();
                    return None;
                };
                self.at += offset + 1;
                if rest[offset] == b'\\' {
                    if self.at == buffer.len() {
                        self.escaped = true;
                        return None;
                    }
                    self.at += 1;
                    continue;
                }
                self.in_string = false;
                if self.closers.is_empty() {
                    return Some(self.at);
                }
                continue;
            }
            let byte = buffer[self.at];
            if self.start.is_none() {
                if byte.is_ascii_whitespace() {
                    self.at += 1;
                    continue;
                }
                self.start = Some(self.at);
                self.scalar = !matches!(byte, b'{' | b'[' | b'"' | b'}' | b']');
            }
            if self.scalar {
                if byte.is_ascii_whitespace() || matches!(byte, b'{' | b'[' | b'"' | b'}' | b']') {
                    self.scalar = false;
                    return Some(self.at);
                }
                self.at += 1;
                continue;
            }
            self.at += 1;
            match byte {
                b'"' => self.in_string = true,
                b'{' => self.closers.push(b'}'),
                b'[' => self.closers.push(b']'),
                b'}' | b']' => {
                    // A bracket that closes nothing open, or the wrong one, ends the value: the
                    // parser then says what is wrong with it.
                    if self.closers.pop() != Some(byte) {
                        self.closers.clear();
                    }
                    if self.closers.is_empty() {
                        return Some(self.at);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The start of the value [`ValueSplitter::next_end`] found; the next value is looked for
    /// after it.
    fn take_start(&mut self) -> usize {
        self.start.take().unwrap_or(self.at)
    }

    /// The buffer lost its first `bytes` bytes.
    fn shift(&mut self, bytes: usize) {
        self.at -= bytes;
        self.start = self.start.map(|start| start - bytes);
    }
}

/// Hands the elements of a JSON array to `each` one at a time, so that the array is never held
/// whole. A failure, or `each` asking to stop, ends the walk with an error that carries nothing:
/// the reason is in `failure` or `stopped`.
struct EachElement<'a> {
    each: &'a mut dyn FnMut(Value) -> Result<bool, Failure>,
    failure: &'a mut Option<Failure>,
    stopped: &'a mut bool,
}

impl<'de> Visitor<'de> for EachElement<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of twins")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        while let Some(value) = seq.next_element::<Value>()? {
            match (self.each)(value) {
                Ok(true) => {}
                Ok(false) => {
                    *self.stopped = true;
                    return Err(A::Error::custom("stopped"));
                }
                Err(failure) => {
                    *self.failure = Some(failure);
                    return Err(A::Error::custom("failed"));
                }
            }
        }
        Ok(())
    }
}

/// `patch` (or, with `replace`, `replace`): reads the twin and body, writes, prints.
fn write(args: &WriteArgs, replace: bool, pretty: bool) -> Result<Output, Failure> {
    one_stdin(&args.twin, &args.body)?;
    check_in_place(&args.twin, &args.output)?;
    let limits = limits(args);
    let mut options = args
        .output
        .options(WriteOptions::new(time(args.now.as_deref())?).limits(limits));
    options.if_match.clone_from(&args.if_match);
    options.if_version = args.if_version;
    let mut twin = read_twin(&args.twin, &limits)?;
    let body = read_body(&args.body, &limits)?;
    let section = match args.section {
        SectionArg::Tags => Section::Tags,
        SectionArg::Desired => Section::Desired,
        SectionArg::Reported => Section::Reported,
        SectionArg::Twin if replace => {
            return finish(
                twin.replace_twin(&body, &options)?,
                &twin,
                &args.twin,
                &args.output,
                pretty,
            )
        }
        SectionArg::Twin => return finish(twin.update(&body, &options)?, &twin, &args.twin, &args.output, pretty),
    };
    let outcome = if replace {
        twin.replace(section, &body, &options)?
    } else {
        twin.patch(section, &body, &options)?
    };
    finish(outcome, &twin, &args.twin, &args.output, pretty)
}

/// `patch-digital-twin`: reads the twin and the operations, writes, prints.
fn patch_digital_twin(args: &DigitalTwinWriteArgs, pretty: bool) -> Result<Output, Failure> {
    one_stdin(&args.twin, &args.ops)?;
    check_in_place(&args.twin, &args.output)?;
    let limits = Limits::azure();
    let mut options = args.output.options(WriteOptions::new(time(args.now.as_deref())?));
    options.if_match.clone_from(&args.if_match);
    let mut twin = read_twin(&args.twin, &limits)?;
    let operations = twindoc::digital_twin_operations(&read_json("ops", &args.ops, &limits)?)?;
    let outcome = twin.patch_digital_twin(&operations, &options)?;
    finish(outcome, &twin, &args.twin, &args.output, pretty)
}

fn check_in_place(twin: &Path, output: &WriteOutput) -> Result<(), Failure> {
    match output.in_place && is_stdin(twin) {
        true => Err(Failure::Usage("--in-place needs a twin file, not stdin (`-`)".into())),
        false => Ok(()),
    }
}

impl WriteOutput {
    /// `options` with the hub's name, and the digital twin event asked for when it is printed
    /// (it costs two views of the twin, so other writes skip it).
    fn options(&self, options: WriteOptions) -> WriteOptions {
        let options = options.digital_twin_event(matches!(self.print, Print::Outcome | Print::DigitalTwinEvent));
        match &self.hub_name {
            Some(name) => options.hub_name(name),
            None => options,
        }
    }
}

/// Prints what `--print` asks for after a write, and with `--in-place` writes the twin to its file.
fn finish(
    outcome: WriteOutcome,
    twin: &Twin,
    twin_path: &Path,
    output: &WriteOutput,
    pretty: bool,
) -> Result<Output, Failure> {
    if output.in_place {
        let text = if pretty { twin.to_json_pretty() } else { twin.to_json() };
        replace_file(twin_path, &text)?;
    }
    match output.print {
        Print::Twin if output.in_place => Ok(Output { text: None, ok: true }),
        Print::Twin => Ok(twin_output(twin, pretty)),
        Print::Outcome => render(&outcome, pretty, true),
        Print::Event => render(&outcome.event, pretty, true),
        Print::DigitalTwinEvent => render(&outcome.digital_twin_event, pretty, true),
    }
}

/// Replaces the file at `path` by `text` and a newline, atomically: the text goes to a new file
/// in the same directory, which is then renamed over the old one, so that a reader (or a failure
/// midway) sees the old file or the new one, never a part. On any error the file is untouched and
/// the new file is removed.
fn replace_file(path: &Path, text: &str) -> Result<(), Failure> {
    let cannot = |e: io::Error| Failure::Usage(format!("cannot write {}: {e}", path.display()));
    // A symbolic link keeps pointing at the file it names: that file is the one replaced.
    let target = fs::canonicalize(path).map_err(cannot)?;
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(Failure::Usage(format!("cannot write {}: not a file", path.display())));
    };
    let temporary = dir.join(format!(
        ".{}.twindoc-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let permissions = fs::metadata(&target).map_err(cannot)?.permissions();
    // `create_new`: a file already there is not ours to overwrite or remove.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .map_err(cannot)?;
    let written = (|| {
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.set_permissions(permissions)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, &target)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temporary);
        cannot(e)
    })
}

/// IoT Hub's limits (or none, with `--no-limits`), changed by the limit flags: the overrides
/// JavaScript's `limits` option gives.
fn limits(args: &WriteArgs) -> Limits {
    let base = if args.no_limits {
        LimitsBase::None
    } else {
        LimitsBase::Azure
    };
    LimitsOverrides {
        base,
        max_key_bytes: args.max_key_bytes,
        max_value_bytes: args.max_value_bytes,
        max_depth: args.max_depth,
        tags_bytes: args.tags_bytes,
        desired_bytes: args.desired_bytes,
        reported_bytes: args.reported_bytes,
    }
    .to_limits()
}

/// The time of a write: `--now` (a [`TimeInput`]: Unix milliseconds when all digits, else RFC
/// 3339), or the system clock.
fn time(now: Option<&str>) -> Result<Timestamp, Failure> {
    let Some(text) = now else {
        let nanos = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()),
            Err(before) => i128::try_from(before.duration().as_nanos()).map(|n| -n),
        };
        let nanos =
            nanos.map_err(|_| Failure::rejected(ErrorKind::InvalidTimestamp, "the system clock is out of range"))?;
        return Ok(Timestamp::from_unix_nanos(nanos)?);
    };
    let input = text.parse::<TimeInput>().map_err(Failure::BadArgument)?;
    input.timestamp().map_err(Failure::BadArgument)
}

/// Refuses to read two inputs from stdin.
fn one_stdin(first: &Path, second: &Path) -> Result<(), Failure> {
    if is_stdin(first) && is_stdin(second) {
        return Err(Failure::Usage("only one input can be read from stdin (`-`)".into()));
    }
    Ok(())
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads a twin: taken as it is, whatever the write's limits (only the input bound applies).
fn read_twin(path: &Path, limits: &Limits) -> Result<Twin, Failure> {
    let as_is = Limits::none().with_max_input_bytes(limits.max_input_bytes());
    let value = read_json("twin", path, &as_is)?;
    Twin::from_value(value).map_err(|e| named_input("twin", path, Failure::Rejected(e)))
}

/// What `delta` and `device-view` read: a twin, or what a device sees of one.
enum TwinOrView {
    Twin(Twin),
    // Boxed: a replica is several times the size of a twin's handle.
    View(Box<DeviceTwin>),
}

/// Reads a twin (an object with `properties`, holding `desired` and `reported` with their
/// `$version`) or a device view (`{"desired": {...}, "reported": {...}}`, each with `$version`).
/// Anything else is `InvalidTwin` naming what is missing, rather than read as a twin with empty
/// sections at version 0.
fn read_twin_or_view(path: &Path) -> Result<TwinOrView, Failure> {
    let as_is = Limits::none().with_max_input_bytes(Limits::azure().max_input_bytes());
    let value = read_json("twin", path, &as_is)?;
    let refused = |e: Error| named_input("twin", path, Failure::Rejected(e));
    let invalid = |at: &str, message: &str| refused(Error::new(ErrorKind::InvalidTwin, at, message));
    let Value::Object(doc) = &value else {
        return Err(invalid("", "a twin or a device view must be a JSON object"));
    };
    if doc.contains_key("properties") {
        // Looked for before the value is read as a twin, reported after its own checks.
        let missing = ["desired", "reported"].into_iter().find(|name| {
            let version = doc["properties"].get(name).and_then(|section| section.get("$version"));
            version.is_none()
        });
        let twin = Twin::from_value(value).map_err(refused)?;
        if let Some(name) = missing {
            let at = format!("/properties/{name}/$version");
            return Err(invalid(
                &at,
                &format!("the twin needs properties.{name} with its $version"),
            ));
        }
        return Ok(TwinOrView::Twin(twin));
    }
    if doc.contains_key("desired") || doc.contains_key("reported") {
        return DeviceTwin::from_device_view(&value)
            .map(|view| TwinOrView::View(Box::new(view)))
            .map_err(refused);
    }
    Err(invalid(
        "",
        "neither a twin (it has no \"properties\") nor a device view (it has no \"desired\" and \"reported\")",
    ))
}

/// A section of a device view: its content and `$version`.
fn section_of_view(content: &serde_json::Map<String, Value>, version: u64) -> Value {
    let mut section = content.clone();
    section.insert("$version".into(), version.into());
    Value::Object(section)
}

/// Reads and parses one input, never more than `limits.max_input_bytes()` bytes of it. A refusal
/// names the input by its `role` in the command and its path.
fn read_json(role: &str, path: &Path, limits: &Limits) -> Result<Value, Failure> {
    read_text(path, limits)
        .and_then(|text| Ok(twindoc::parse_json(&text, limits)?))
        .map_err(|failure| named_input(role, path, failure))
}

/// Reads and parses a write's body: an integer literal past 64 bits is left to the write's
/// integer range rule, which refuses it in the order of the body's rules (`parse_body_json`).
fn read_body(path: &Path, limits: &Limits) -> Result<Value, Failure> {
    read_text(path, limits)
        .and_then(|text| Ok(twindoc::parse_body_json(&text, limits)?))
        .map_err(|failure| named_input("body", path, failure))
}

/// Prefixes a refused input's message with the input's role and name (`body b.json: ...`), so
/// that a command reading two inputs says which one failed; the other fields stay as they are.
fn named_input(role: &str, path: &Path, failure: Failure) -> Failure {
    let Failure::Rejected(error) = failure else {
        return failure;
    };
    let name = match is_stdin(path) {
        true => "(standard input)".to_string(),
        false => path.display().to_string(),
    };
    let message = format!("{role} {name}: {}", error.message());
    Failure::Rejected(Error::new(error.kind(), error.path(), message))
}

/// Reads one input's text, never more than `limits.max_input_bytes()` bytes of it.
fn read_text(path: &Path, limits: &Limits) -> Result<String, Failure> {
    let max = limits.max_input_bytes();
    let unreadable = |e: io::Error| Failure::Usage(format!("cannot read {}: {e}", path.display()));
    let source: Box<dyn Read> = if is_stdin(path) {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(unreadable)?)
    };
    let mut bytes = Vec::new();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    source.take(cap).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() > max {
        return Err(Failure::rejected(
            ErrorKind::InvalidJson,
            format!("the input is too large: over the maximum of {max} bytes"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| Failure::rejected(ErrorKind::InvalidJson, format!("the input is not UTF-8: {e}")))
}

fn twin_output(twin: &Twin, pretty: bool) -> Output {
    let text = if pretty { twin.to_json_pretty() } else { twin.to_json() };
    Output {
        text: Some(text),
        ok: true,
    }
}

fn render(value: &impl Serialize, pretty: bool, ok: bool) -> Result<Output, Failure> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    let text = text.map_err(|e| Failure::Usage(format!("cannot write the output: {e}")))?;
    Ok(Output { text: Some(text), ok })
}
