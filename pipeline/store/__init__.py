"""Where results live: signed, versioned model artifacts."""
