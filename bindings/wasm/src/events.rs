//! What the back end is told and the Plug and Play digital twin, for JavaScript (S13 and S14 of
//! `../../../docs/semantics.md`): the write options that name the hub and ask for the digital twin
//! change event, `Twin.digitalTwin()` and `Twin.patchDigitalTwin(operations, options)`. The
//! outcome's `event` and `digitalTwinEvent` come with the core's serialization of the outcome.

use twindoc::{Error, WriteOptions};
use wasm_bindgen::prelude::*;

use crate::convert::{input, to_js};
use crate::{argument, js_error, member, write_options, JsTwin, JsWriteOptions};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** The message properties of a change event (S13, S14). */
export interface EventProperties {
  deviceId?: string; moduleId?: string; hubName?: string; operationTimestamp: string;
  "iothub-message-schema": "twinChangeNotification" | "digitalTwinChangeNotification";
  opType: "updateTwin" | "replaceTwin";
}
/** The twin change event of a write (S13): for a patch, what was written with its $metadata and
 * $version; for a replace, the twin after the write. */
export interface TwinChangeEvent { properties: EventProperties; body: JsonObject }
/** The digital twin change event of a write (S14): RFC 6902 operations from the view before to
 * the view after, in sorted key order. */
export interface DigitalTwinChangeEvent { properties: EventProperties; body: JsonPatchOperation[] }
/** An RFC 6902 operation on a digital twin, for Twin.patchDigitalTwin (move, copy and test are
 * refused, as IoT Hub refuses them). */
export interface DigitalTwinOperation { op: "add" | "remove" | "replace"; path: string; value?: unknown }
/** The IoT Plug and Play digital twin of a twin (S14). */
export type DigitalTwin = { $dtId?: string; $metadata: JsonObject; [name: string]: unknown };
export interface WriteOptions {
  /** The hub's name, for the change events' hubName (the engine does not know it). */
  hubName?: string;
  /** Work out the digital twin change event (it costs two views of the twin); without it the
   * outcome's digitalTwinEvent is null. */
  digitalTwinEvent?: boolean;
}
export interface WriteOutcome {
  /** What IoT Hub tells the back end: every write has one. */
  event: TwinChangeEvent;
  /** Null unless asked for (the digitalTwinEvent option, or patchDigitalTwin) and the write
   * changed the digital twin. */
  digitalTwinEvent: DigitalTwinChangeEvent | null;
}
"#;

/// The write options of the events, over the others: `hubName` and `digitalTwinEvent`.
pub(crate) fn event_options(options: &JsValue, mut write: WriteOptions) -> Result<WriteOptions, Error> {
    if let Some(hub) = member(options, "hubName")? {
        write.hub_name = Some(
            hub.as_string()
                .ok_or_else(|| argument("/hubName", "hubName must be a string"))?,
        );
    }
    if let Some(wanted) = member(options, "digitalTwinEvent")? {
        write.digital_twin_event = wanted
            .as_bool()
            .ok_or_else(|| argument("/digitalTwinEvent", "digitalTwinEvent must be a boolean"))?;
    }
    Ok(write)
}

#[wasm_bindgen(js_class = Twin)]
impl JsTwin {
    /// The IoT Plug and Play digital twin (S14): each property's current value, its desired
    /// value and acknowledgement in `$metadata`, components and the model.
    #[wasm_bindgen(js_name = digitalTwin, unchecked_return_type = "DigitalTwin")]
    pub fn digital_twin(&self) -> JsValue {
        to_js(&self.twin.digital_twin())
    }

    /// IoT Hub's Update Digital Twin: RFC 6902 `operations` on the digital twin (an array, or
    /// its JSON text), written as one desired patch. The outcome always has its digital twin
    /// change event worked out.
    #[wasm_bindgen(js_name = patchDigitalTwin, unchecked_return_type = "WriteOutcome")]
    pub fn patch_digital_twin(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "DigitalTwinOperation[] | string")] operations: JsValue,
        options: Option<JsWriteOptions>,
    ) -> Result<JsValue, JsValue> {
        let options = write_options(&options.map(JsValue::from).unwrap_or_default()).map_err(js_error)?;
        let operations = input(&operations, &options.limits)
            .and_then(|operations| twindoc::digital_twin_operations(&operations))
            .map_err(js_error)?;
        let outcome = self.twin.patch_digital_twin(&operations, &options).map_err(js_error)?;
        Ok(to_js(&outcome))
    }
}
