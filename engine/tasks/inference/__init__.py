"""The approximate-inference pages' live steps (the Task protocol of engine.run), one file per page."""
