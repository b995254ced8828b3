"""Long-form jobs: documents split into chapters and pieces, rendered in the background."""
