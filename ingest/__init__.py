"""From a source to an archived, transcribed, indexed statement."""
