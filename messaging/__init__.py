"""Messages to customers (SMS now; the gateway drivers and the chat channel follow): no Flask,
no database."""
