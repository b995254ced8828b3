"""Chorus provider service for Dia: dialogue with [S1]/[S2] tags and voice cloning."""
