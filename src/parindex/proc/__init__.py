"""Process machinery: helper lifecycle, garbage-collector pauses, start-up speed."""
