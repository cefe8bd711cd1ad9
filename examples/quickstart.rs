//! The README's quick start: a twin's life in four writes, as IoT Hub would apply them.
//!
//! Run with `cargo run --release --example quickstart`.

use serde_json::json;
use twindoc::{Section, Timestamp, Twin, WriteOptions};

fn main() -> Result<(), twindoc::Error> {
    let created: Timestamp = "2026-11-28T10:00:00Z".parse()?;
    let mut twin = Twin::new("devA", created);
    println!("new twin:\n{}\n", twin.to_json_pretty());

    // The back end asks the device to send data every 5 seconds...
    let at = |text: &str| text.parse::<Timestamp>().map(WriteOptions::new);
    let interval = json!({"sendDataInterval": 5000});
    let desired = twin.patch(Section::Desired, &interval, &at("2026-11-28T10:00:01Z")?)?;
    println!(
        "desired patch -> {}",
        serde_json::to_string(&desired).unwrap_or_default()
    );

    // ...the device reports its Wi-Fi state...
    let wifi = json!({"wifi": {"ip": "10.0.0.2", "mask": "255.255.255.0"}});
    let reported = twin.patch(Section::Reported, &wifi, &at("2026-11-28T10:00:02Z")?)?;
    println!(
        "reported patch -> {}",
        serde_json::to_string(&reported).unwrap_or_default()
    );

    // ...and the back end files the device under its location, if nobody changed the twin since.
    let location = json!({"location": {"city": "Chicago", "building": "Willis Tower", "floor": "12"}});
    let etag = twin.etag().unwrap_or_default().to_owned();
    let tags = twin.patch(Section::Tags, &location, &at("2026-11-28T10:00:03Z")?.if_match(etag))?;
    println!("tags patch -> {}", serde_json::to_string(&tags).unwrap_or_default());

    // A write IoT Hub would refuse changes nothing and says why.
    let bad = json!({"wifi.ip": "x"});
    let refused = twin.patch(Section::Desired, &bad, &at("2026-11-28T10:00:04Z")?);
    if let Err(error) = refused {
        println!(
            "refused -> {error} (status {}, errorCode {})",
            error.status(),
            error.error_code()
        );
    }

    println!("\ntwin after the writes:\n{}", twin.to_json_pretty());
    println!(
        "\nwhat the device sees:\n{}",
        serde_json::to_string_pretty(&twin.device_view()).unwrap_or_default()
    );
    Ok(())
}
