//! Automatic configurations (S12) for JavaScript: `applyConfigurations` over an array of twins,
//! and `Twin.applyConfigurations` on one twin. Arguments are converted as everywhere else (S10);
//! the behaviour is the core's `Configurations`.

use js_sys::{Object, Reflect};
use twindoc::{Configurations, Error, ErrorKind, Limits, Twin};
use wasm_bindgen::prelude::*;

use crate::convert::{input, to_js};
use crate::{js_error, limits, member, query_twins, time, JsTwin};

#[wasm_bindgen(typescript_custom_section)]
const CONFIGURATION_TYPES: &str = r#"
/** An automatic configuration in IoT Hub's JSON shape (S12); other members are ignored. */
export interface Configuration {
  id: string;
  targetCondition: string;
  content: { deviceContent: { [key: string]: unknown } } | { moduleContent: { [key: string]: unknown } };
  priority?: number;
  createdTimeUtc?: string;
  labels?: { [name: string]: string };
  metrics?: { queries?: { [name: string]: string } };
  [member: string]: unknown;
}
/** The options of applyConfigurations: the time of the writes and the limits they obey. */
export interface ConfigureOptions { now?: Time; limits?: "azure" | "none" | LimitsObject }
/** What applying configurations to one twin did: each targeting configuration's status, and the
 * desired write (null when nothing differed: no version moved). */
export interface ConfigurationApplication {
  statuses: { [id: string]: "applied" | "targeted" };
  outcome: WriteOutcome | null;
}
/** A configuration's metrics over the twins after applying. */
export interface ConfigurationMetrics { targetedCount: number; appliedCount: number; queries: { [name: string]: number } }
/** A twin whose write failed: it is returned unchanged. */
export interface ConfigurationFailure { deviceId: string | null; moduleId?: string; error: TwinErrorFields }
/** The fields of a TwinError, as data. */
export interface TwinErrorFields { code: string; status: number; errorCode: number; path: string; message: string }
/** What applyConfigurations did: the twins after (in order), the metrics by id, the failures. */
export interface ConfiguredFleet {
  twins: JsonObject[];
  metrics: { [id: string]: ConfigurationMetrics };
  failures: ConfigurationFailure[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ConfigureOptions` in TypeScript: a plain object, read member by member.
    #[wasm_bindgen(typescript_type = "ConfigureOptions")]
    pub type JsConfigureOptions;
}

/// The configurations (one object, an array of them, or JSON text), checked: a malformed one is
/// `InvalidConfiguration`, its path a JSON Pointer into them.
fn configurations(value: &JsValue) -> Result<Configurations, Error> {
    Configurations::from_value(&input(value, &Limits::none())?)
}

/// `now` and `limits` of the options.
fn options(options: Option<JsConfigureOptions>) -> Result<(twindoc::Timestamp, Limits), Error> {
    let options = options.map(JsValue::from).unwrap_or_default();
    Ok((time(member(&options, "now")?)?, limits(member(&options, "limits")?)?))
}

/// Applies `configs` to `twins` (Twin handles, plain objects or JSON text, left as they are) and
/// returns the twins after as plain objects, with the metrics and the failures (S12).
#[wasm_bindgen(js_name = applyConfigurations, unchecked_return_type = "ConfiguredFleet")]
pub fn apply_configurations(
    #[wasm_bindgen(unchecked_param_type = "Configuration | Configuration[] | string")] configs: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TwinInput[]")] twins: JsValue,
    options: Option<JsConfigureOptions>,
) -> Result<JsValue, JsValue> {
    let configurations = configurations(&configs).map_err(js_error)?;
    let (now, limits) = self::options(options).map_err(js_error)?;
    let mut twins: Vec<Twin> = query_twins(&twins).map_err(js_error)?;
    let fleet = configurations.apply_all(&mut twins, now, &limits);
    // `{"twins", "metrics", "failures"}`, in that order: the twins set first, then the fleet's
    // members copied over.
    let out = Object::new();
    let fleet = to_js(&fleet);
    for (name, value) in [
        ("twins", to_js(&twins)),
        ("metrics", Reflect::get(&fleet, &"metrics".into()).unwrap_or_default()),
        ("failures", Reflect::get(&fleet, &"failures".into()).unwrap_or_default()),
    ] {
        Reflect::set(&out, &name.into(), &value)
            .map_err(|_| js_error(Error::new(ErrorKind::InvalidArgument, "", "the result cannot be built")))?;
    }
    Ok(out.into())
}

#[wasm_bindgen(js_class = Twin)]
impl JsTwin {
    /// Applies `configs` to this twin (S12): one desired write of what differs (none when nothing
    /// does), then its `configurations` statuses. When the write breaks a rule it throws, and the
    /// twin is unchanged.
    #[wasm_bindgen(js_name = applyConfigurations, unchecked_return_type = "ConfigurationApplication")]
    pub fn apply_configurations(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Configuration | Configuration[] | string")] configs: JsValue,
        options: Option<JsConfigureOptions>,
    ) -> Result<JsValue, JsValue> {
        let configurations = configurations(&configs).map_err(js_error)?;
        let (now, limits) = self::options(options).map_err(js_error)?;
        let applied = configurations.apply(&mut self.twin, now, &limits).map_err(js_error)?;
        Ok(to_js(&applied))
    }
}
