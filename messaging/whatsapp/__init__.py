"""A chat channel in the style of the WhatsApp Business Cloud API: its codec and its driver."""
