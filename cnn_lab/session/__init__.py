"""One user's work, without Gradio: the Session the page and the command line call."""
