//! State shared by every handler.

use metrics_exporter_prometheus::PrometheusHandle;

use crate::services::App;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: PrometheusHandle,
}
