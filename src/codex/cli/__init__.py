"""Front door: typer commands and renderers. No business logic lives here."""
