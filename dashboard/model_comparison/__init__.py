"""Parts of the model comparison page (:mod:`dashboard.pages.models`), one module per job."""
