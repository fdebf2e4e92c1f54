"""Component ids: every id the app uses, defined once.

Ids are prefixed by page.  Repeated widgets use dict ids built by the
functions at the bottom (``{"type": ..., "index": <feature or segment key>}``)
and are matched with ``MATCH``/``ALL``; ids are never glued from data values.
"""

from __future__ import annotations

import json
from typing import Any

# --- shell (app.py) ---------------------------------------------------------
URL = "app-url"
ACTIVE_ARTIFACT = "app-active-artifact"  # dcc.Store(session): the artifact id this browser session uses
THEME = "app-theme"  # dcc.Store(local): "light" | "dark"
THEME_SWITCH = "app-theme-switch"
NAV_DATASET = "app-nav-dataset"
NAV_VERSION = "app-nav-version"
THEME_DUMMY = "app-theme-dummy"
NAV_TOGGLER = "app-nav-toggler"
NAV_COLLAPSE = "app-nav-collapse"
MAIN = "app-main"  # <main>: target of the skip-to-content link
NAV_PRESENT = "app-nav-present"  # navbar link into presentation mode

# --- presentation mode (/present) -------------------------------------------
PRESENT_VERSION = "present-version"  # dcc.Store: ?version=<id> of a share link (None: the session's data set)
PRESENT_DECK = "present-deck"
PRESENT_SHARE = "present-share"

# --- overview (/) -----------------------------------------------------------
OVERVIEW_KPIS = "overview-kpis"
OVERVIEW_SIZE_GRAPH = "overview-size-graph"
OVERVIEW_CARDS = "overview-segment-cards"
OVERVIEW_QUALITY = "overview-quality"
OVERVIEW_MODEL = "overview-model"

# --- EDA (/eda) -------------------------------------------------------------
EDA_VARIABLE = "eda-variable"
EDA_LOG = "eda-log"
EDA_SPLIT = "eda-split"
EDA_DIST_GRAPH = "eda-dist-graph"
EDA_CATEGORY = "eda-category"
EDA_CATEGORY_GRAPH = "eda-category-graph"
EDA_OUTLIER_METHOD = "eda-outlier-method"
EDA_OUTLIER_SUMMARY = "eda-outlier-summary"
EDA_OUTLIER_TABLE = "eda-outlier-table"
EDA_CORR_GRAPH = "eda-corr-graph"
EDA_MISSING = "eda-missing"
EDA_PCA_GRAPH = "eda-pca-graph"
EDA_LOADINGS_GRAPH = "eda-loadings-graph"
EDA_DIST_STATS = "eda-dist-stats"  # one-line summary under the distribution
EDA_CATEGORY_SPLIT = "eda-category-split"
EDA_OUTLIER_NOTE = "eda-outlier-note"  # what the chosen method means + the loader's flags
EDA_OUTLIER_GRID_HOLDER = "eda-outlier-grid-holder"  # the flagged-customers grid is mounted here once in view
EDA_OUTLIER_GRID_WANTED = "eda-outlier-grid-wanted"  # dcc.Store: True once the holder has been on screen
EDA_BELOW_FOLD = "eda-below-fold"  # correlations, data fixes and PCA: drawn once this part is in view
EDA_BELOW_FOLD_WANTED = "eda-below-fold-wanted"  # dcc.Store: True once EDA_BELOW_FOLD has been on screen

# --- model comparison (/models) ---------------------------------------------
MODELS_TABLE = "models-table"  # the <table> of all models side by side
MODELS_TABLE_BODY = "models-table-body"  # its <tbody>, redrawn when sorted
MODELS_TABLE_SORT = "models-table-sort"  # dcc.Store: {"column": key, "descending": bool} or None (comparison order)
MODELS_METRIC_GRAPH = "models-metric-graph"
MODELS_METRIC = "models-metric"
MODELS_SWEEP_GRAPH = "models-sweep-graph"
MODELS_KNIFE_GRAPH = "models-knife-graph"
MODELS_KDIST_GRAPH = "models-kdist-graph"
MODELS_SCALING_GRAPH = "models-scaling-graph"
MODELS_RECOMMENDATION = "models-recommendation"
MODELS_SAMPLED = "models-sampled"
MODELS_CHOICE_MODEL = "models-choice-model"
MODELS_CHOICE_K = "models-choice-k"
MODELS_CHOICE_SCALING = "models-choice-scaling"
MODELS_TRAIN = "models-train"
MODELS_CANCEL = "models-cancel"
MODELS_PROGRESS = "models-progress"
MODELS_TRAIN_STATUS = "models-train-status"
MODELS_CONTENT = "models-content"
MODELS_CHARTS = "models-charts"  # the first row of comparison charts: they are drawn once it is in view
MODELS_CHARTS_WANTED = "models-charts-wanted"  # dcc.Store: True once MODELS_CHARTS has been on screen
MODELS_PENDING = "models-pending"  # dcc.Store: {"artifact": id} whose comparison the background job computes
MODELS_COMPUTE_REQUEST = "models-compute-request"  # dcc.Store: MODELS_PENDING passed on in the browser (starts it)
MODELS_COMPUTED = "models-computed"  # dcc.Store: what the background comparison job returned
MODELS_COMPUTE_PANEL = "models-compute-panel"  # shown while the comparison is missing or computing
MODELS_COMPUTE_STATUS = "models-compute-status"
MODELS_COMPUTE_BOX = "models-compute-box"
MODELS_COMPUTE_PROGRESS = "models-compute-progress"
MODELS_COMPUTE_TEXT = "models-compute-text"
MODELS_COMPUTE_CANCEL = "models-compute-cancel"
MODELS_COMPUTE_RETRY = "models-compute-retry"
MODELS_PROGRESS_BOX = "models-progress-box"  # training progress (MODELS_PROGRESS, MODELS_CANCEL)
MODELS_PROGRESS_TEXT = "models-progress-text"
MODELS_TRAINED = "models-trained"  # dcc.Store: {"id": artifact id, "at": time} of the last training here
MODELS_TRAIN_JOB = "models-train-job"  # dcc.Store: {"id": job id} of the training job this page follows
MODELS_TRAIN_POLL = "models-train-poll"  # dcc.Interval polling it
MODELS_COMPUTE_JOB = "models-compute-job"  # dcc.Store: {"id": job id} of the comparison job
MODELS_COMPUTE_POLL = "models-compute-poll"  # dcc.Interval polling it
MODELS_CHOICE_NOTE = "models-choice-note"
MODELS_IN_USE = "models-in-use"  # the model version the session uses, against the recommendation
MODELS_METRIC_HELP = "models-metric-help"
MODELS_NATIVE_NOTE = "models-native-note"
MODELS_KNIFE_NOTE = "models-knife-note"
MODELS_KDIST_NOTE = "models-kdist-note"
MODELS_SCALING_TABLE = "models-scaling-table"
MODELS_SWEEP_NOTE = "models-sweep-note"
MODELS_CHURN_GRAPH = "models-churn-graph"  # predicted vs actual purchases after the cut-off
MODELS_CHURN_SUMMARY = "models-churn-summary"  # totals and how measured, or why not checked
MODELS_CHURN_CHART = "models-churn-chart"  # the holdout chart's box (hidden without a holdout)

# --- 3D explorer (/explorer) ------------------------------------------------
EXPLORER_AXES = "explorer-axes"
EXPLORER_X = "explorer-x"
EXPLORER_Y = "explorer-y"
EXPLORER_Z = "explorer-z"
EXPLORER_SEGMENTS = "explorer-segments"
EXPLORER_GRAPH = "explorer-scatter-graph"
EXPLORER_DRILL = "explorer-drill"
EXPLORER_DRILL_SEGMENT = "explorer-drill-segment"
EXPLORER_PROFILE_GRAPH = "explorer-profile-graph"
EXPLORER_EVIDENCE = "explorer-evidence"
EXPLORER_GRID = "explorer-grid"
EXPLORER_GRID_HOLDER = "explorer-grid-holder"  # the members grid is mounted here when a segment is drilled
EXPLORER_AXES_NOTE = "explorer-axes-note"  # what each 3D axis means, under the scatter (HTML, not 3D text)
EXPLORER_DEEP_LINK = "explorer-deep-link"  # dcc.Store: ?segment=<key> from the URL
EXPLORER_DRILL_HINT = "explorer-drill-hint"
EXPLORER_DRILL_HEADER = "explorer-drill-header"
EXPLORER_URL_SYNC = "explorer-url-sync"  # hidden target of the clientside URL update
EXPLORER_GRID_WANTED = "explorer-grid-wanted"  # dcc.Store: a deep link's segment, set after the first render

# --- simulator (/simulator) -------------------------------------------------
SIM_PRESET = "sim-preset"
SIM_RESULT = "sim-result"
SIM_SEGMENT_NAME = "sim-segment-name"
SIM_GAUGE = "sim-activity-gauge"  # this customer's P(alive), 0-100 %
SIM_CHURN = "sim-churn"  # expected purchases and value over the horizon, or "not measured"
SIM_CHURN_DETAIL = "sim-churn-detail"
SIM_DISTANCES_GRAPH = "sim-distances-graph"
SIM_PCA_GRAPH = "sim-pca-graph"
SIM_MOVES = "sim-moves"
SIM_CONFIDENCE = "sim-confidence"
SIM_CONTROLS = "sim-controls"  # one slider + numeric box per feature, built for the session's artifact
SIM_BUILT = "sim-built"  # dcc.Store: the artifact id the controls were built for
SIM_CHART_UPDATE = "sim-chart-update"  # dcc.Store: what a slider step changes in the charts (applied in the browser)
SIM_DRAW = "sim-draw"  # dcc.Store: the simulator's figures are to be drawn in full (new model or theme)
SIM_DRAWN = "sim-drawn"  # dcc.Store: artifact id + theme the simulator figures were last fully drawn for

# --- segments (/segments) ---------------------------------------------------
SEGMENTS_CARDS = "segments-cards"
SEGMENTS_CARDS_WANTED = "segments-cards-wanted"  # set once the cards' row has been on screen
SEGMENTS_MATRIX_GRAPH = "segments-matrix-graph"
SEGMENTS_PRIORITY = "segments-priority"
SEGMENTS_HOW_MEASURED = "segments-how-measured"  # how the matrix's inactivity axis is measured, or why not

# --- data (/data) -----------------------------------------------------------
DATA_UPLOAD = "data-upload"
DATA_UPLOAD_STATUS = "data-upload-status"
DATA_PREVIEW = "data-preview"
DATA_KIND = "data-kind"
DATA_MAPPING = "data-mapping"
DATA_VALIDATION = "data-validation"
DATA_TRAIN = "data-train"
DATA_CANCEL = "data-cancel"
DATA_PROGRESS = "data-progress"
DATA_TRAIN_STATUS = "data-train-status"
DATA_UPLOAD_KEY = "data-upload-key"  # dcc.Store: server-side id of the pending upload
DATA_VERSIONS = "data-versions"
DATA_UPLOAD_CHECK = "data-upload-check"  # dcc.Store: name/size of the file picked, checked in the browser
DATA_UPLOAD_LIMIT = "data-upload-limit"  # dcc.Store: the upload limit in bytes
DATA_DETECTION = "data-detection"  # detected kind and its evidence
DATA_COLUMN_TYPES = "data-column-types"
DATA_PREVIEW_GRID = "data-preview-grid"
DATA_MAPPING_STORE = "data-mapping-store"  # dcc.Store(session): {"key": upload key, "mapping": mapping dict}
DATA_MAPPING_UPLOAD = "data-mapping-upload"
DATA_MAPPING_SAVE = "data-mapping-save"
DATA_MAPPING_DOWNLOAD = "data-mapping-download"
DATA_MAPPING_STATUS = "data-mapping-status"
DATA_TRAIN_HINT = "data-train-hint"  # why Train is disabled
DATA_PROGRESS_BOX = "data-progress-box"
DATA_PROGRESS_TEXT = "data-progress-text"
DATA_VERSIONS_TICK = "data-versions-tick"  # dcc.Store: bumped after a deletion to redraw the list
DATA_VERSIONS_STATUS = "data-versions-status"
DATA_TRAINED = "data-trained"  # dcc.Store: {"id", "at"} of the last training, copied to ACTIVE_ARTIFACT
DATA_VERSION_CHOSEN = "data-version-chosen"  # dcc.Store: {"id": artifact id or None, "at"} switched to, copied likewise
# /data "Connect to a database" (dashboard/database_panel.py)
DB_CONNECTION = "db-connection"  # dropdown of the server's named connections (never a URL)
DB_TABLE = "db-table"
DB_QUERY = "db-query"
DB_TEST = "db-test"
DB_PREVIEW_BUTTON = "db-preview-button"
DB_LOAD = "db-load"
DB_STATUS = "db-status"
DB_PREVIEW = "db-preview"
DB_OUT_TABLE = "db-out-table"
DB_EXPORT = "db-export"
DB_EXPORT_STATUS = "db-export-status"
# The read and write jobs of the database card (dashboard.database_jobs through the job runner).
DB_READ_JOB = "db-read-job"  # dcc.Store: {"id": job id}
DB_READ_POLL = "db-read-poll"
DB_READ_CANCEL = "db-read-cancel"
DB_READ_BOX = "db-read-box"
DB_READ_PROGRESS = "db-read-progress"
DB_READ_CAPTION = "db-read-caption"
DB_WRITE_JOB = "db-write-job"  # dcc.Store: {"id": job id}
DB_WRITE_POLL = "db-write-poll"
DB_WRITE_CANCEL = "db-write-cancel"
DB_WRITE_BOX = "db-write-box"
DB_WRITE_PROGRESS = "db-write-progress"
DB_WRITE_CAPTION = "db-write-caption"
DATA_JOB = "data-job"  # dcc.Store: {"id": job id} of the training job this page follows
DATA_JOB_POLL = "data-job-poll"  # dcc.Interval polling that job (disabled when there is none)


# --- executive report menu (dashboard/report_menu.py, on the Overview page) ---
REPORT_MENU = "report-menu"
REPORT_HTML = "report-html"
REPORT_PDF = "report-pdf"
REPORT_PPTX = "report-pptx"
REPORT_JOB = "report-job"  # dcc.Store: {"id": job id, "format": suffix}
REPORT_POLL = "report-poll"
REPORT_CANCEL = "report-cancel"
REPORT_BOX = "report-box"
REPORT_PROGRESS = "report-progress"
REPORT_CAPTION = "report-caption"
REPORT_STATUS = "report-status"

# --- dict ids for repeated widgets -----------------------------------------


def sim_slider(feature: str) -> dict[str, str]:
    """Slider of one simulator feature."""
    return {"type": "sim-slider", "index": feature}


def sim_input(feature: str) -> dict[str, str]:
    """Numeric box of one simulator feature."""
    return {"type": "sim-input", "index": feature}


def sim_feedback(feature: str) -> dict[str, str]:
    """Validation message under one simulator numeric box."""
    return {"type": "sim-feedback", "index": feature}


def sim_preset(key: str) -> dict[str, str]:
    """The "typical customer of segment <key>" button on the simulator."""
    return {"type": "sim-preset-button", "index": key}


def sim_move(key: str) -> dict[str, str]:
    """The "apply" button of the suggested change that reaches segment <key>."""
    return {"type": "sim-move-button", "index": key}


def sim_move_row(key: str) -> dict[str, str]:
    """The row of the suggested change that reaches segment <key> (hidden for the predicted segment)."""
    return {"type": "sim-move-row", "index": key}


def sim_move_text(key: str) -> dict[str, str]:
    """The text of the suggested change that reaches segment <key>."""
    return {"type": "sim-move-text", "index": key}


def segment_link(key: str) -> dict[str, str]:
    """A clickable segment (card or chip) that opens its drill-down."""
    return {"type": "segment-link", "index": key}


def data_map_field(feature: str) -> dict[str, str]:
    """Mapping selector of one feature on the data page."""
    return {"type": "data-map-field", "index": feature}


def data_version_action(action: str, artifact_id: str) -> dict[str, str]:
    """A switch/delete button of one artifact in the versions list."""
    return {"type": f"data-version-{action}", "index": artifact_id}


def models_sort(column: str) -> dict[str, str]:
    """The sort button in the header of one column of the models table."""
    return {"type": "models-sort", "index": column}


def models_sort_header(column: str) -> dict[str, str]:
    """The ``<th>`` of one sortable column of the models table (carries ``aria-sort``)."""
    return {"type": "models-sort-header", "index": column}


def dom_id(component_id: str | dict[str, str]) -> str:
    """The ``id`` attribute Dash renders for ``component_id`` (dict ids: sorted keys, compact JSON).

    For ``<label for=...>``, which needs the rendered id of a dict-id input.
    """
    if isinstance(component_id, str):
        return component_id
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


# --- over time (/changes) ---------------------------------------------------
CHANGES_FROM = "changes-from"  # dropdown: the earlier snapshot
CHANGES_TO = "changes-to"  # dropdown: the later snapshot
CHANGES_SAVE = "changes-save"  # button: save a snapshot of the session's data set
CHANGES_SAVE_STATUS = "changes-save-status"
CHANGES_SAVED = "changes-saved"  # dcc.Store: {"id", "at"} of the last snapshot saved here (refreshes the lists)
CHANGES_SUMMARY = "changes-summary"
CHANGES_ALERTS = "changes-alerts"
CHANGES_SANKEY = "changes-sankey"
CHANGES_MATRIX = "changes-matrix"
CHANGES_DRIFT = "changes-drift"
CHANGES_SHARES = "changes-shares"
CHANGES_MATCHES = "changes-matches"
CHANGES_FLOW = "changes-flow"  # dcc.Store: {"from": key, "to": key} of the clicked flow
CHANGES_MOVERS = "changes-movers"
CHANGES_DOWNLOAD_BUTTON = "changes-download-button"
CHANGES_DOWNLOAD = "changes-download"
CHANGES_LOG_BUTTON = "changes-log-button"  # button: snapshots of the session's transaction log, every quarter
CHANGES_LOG_JOB = "changes-log-job"  # dcc.Store: {"id": job id} of that background job
CHANGES_LOG_POLL = "changes-log-poll"  # dcc.Interval polling it
CHANGES_LOG_STATUS = "changes-log-status"
# Feature picker on /data (dashboard/feature_picker.py).
FEATURE_PICKER_VIEW = "feature-picker-view"  # distributions, correlations and checks of the chosen columns
FEATURE_PICKER_DETAILS = "feature-picker-details"
SEGMENT_NOTE_STATUS = "segment-note-status"


def segment_note(key: str) -> dict[str, str]:
    """The editable note of segment <key> (saved with the model version)."""
    return {"type": "segment-note", "index": key}


def segment_note_save(key: str) -> dict[str, str]:
    """The save button of segment <key>'s note."""
    return {"type": "segment-note-save", "index": key}


# --- segment-assignment downloads (dashboard/exports.py) ---------------------
# ``page`` and ``menu`` name one download menu ("overview"/"all", "segments"/<segment key>...);
# the callback matches them with MATCH (and ``rows``/``format`` with ALL).
def export_item(page: Any, menu: Any, rows: Any, fmt: Any) -> dict[str, Any]:
    """One entry of a download menu: which customers (``rows``) in which format."""
    return {"type": "export-item", "page": page, "menu": menu, "rows": rows, "format": fmt}


def export_selection(page: Any, menu: Any) -> dict[str, Any]:
    """dcc.Store of a download menu: rows key → segment keys (e.g. the explorer's current filter)."""
    return {"type": "export-selection", "page": page, "menu": menu}


def export_download(page: Any, menu: Any) -> dict[str, Any]:
    """dcc.Download of a download menu."""
    return {"type": "export-download", "page": page, "menu": menu}


def export_status(page: Any, menu: Any) -> dict[str, Any]:
    """Why a download menu's last request was refused (empty when it worked)."""
    return {"type": "export-status", "page": page, "menu": menu}


# --- files made by background jobs (dashboard/file_downloads.py) -------------
def file_link(page: Any, menu: Any) -> dict[str, Any]:
    """The link to a finished job's file of one menu (keys as the download menus'); clicked once when set."""
    return {"type": "file-link", "page": page, "menu": menu}


def export_job_part(part: str, page: Any, menu: Any) -> dict[str, Any]:
    """Part of a download menu's export job widgets: ``job``, ``poll``, ``cancel``, ``box``, ``bar``, ``caption``."""
    return {"type": f"export-job-{part}", "page": page, "menu": menu}
