"""newsbeam's stages: Beam composites over pure, separately tested functions.

The data path is Read -> Normalize -> Deduplicate -> Enrich -> Write; each
stage is one composite in its own module, and the logic it carries lives in
plain functions beside it that import nothing from Beam.
"""
