"""vidpipe's own prompt templates, found after a storyboard's own `templates/` folder."""
