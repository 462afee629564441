"""The content of an issue: articles, the issue file that picks them, and the rendering.

Owns: reading `articles/*.md` (`articles`) and `issues/*.yaml` (`issue`), the Markdown subset
(`prose`), format=flowed text (`flowed`), ward editions (`editions`), and `render`: Jinja2 ->
MJML -> premailer once per edition, plus the written plain-text part.

May import: the core (`errors`, `settings`, `yamlfile`, `fileio`, `gates`). Never the
database, the network or the audience: rendering the same files gives the same bytes.
Read first: `render.Renderer`.
"""
