"""Models and engines: the fitted chain (features, scaling, clustering), metrics, model comparison, segment naming, what-if scoring and training."""
