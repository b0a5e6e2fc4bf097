"""Every user-facing string of the panel, in one place so it can be translated.

Placeholders use `str.format` names; a translation keeps the names and may reorder them.
Amounts arrive from the agent already formatted (`*_text`), so no currency logic lives here.
"""

from __future__ import annotations

APP_TITLE = "PageTally"

# Idle
IDLE_PROMPT = "Swipe your card or enter your code"
IDLE_ENTER_CODE = "Enter code"
IDLE_LEARN = "Learn how to print"
IDLE_DEVICES = "Set up my devices"
IDLE_ALERTS = "Printer alerts ({count})"
OFFLINE_BADGE = "Offline"
AGENT_DOWN = "Starting up, please wait"
PRINTER_STATE = {
    "idle": "Ready",
    "printing": "Printing",
    "stopped": "Needs attention",
    "asleep": "Asleep: it wakes up when you print",
    "unknown": "Status unknown",
}
PRINTER_UNKNOWN_NAME = "Printer"
LOGGED_OUT_TIMEOUT = "You were logged out because the panel was not used for a while."
LOGGED_OUT = "You are logged out. Thank you."

# Keypad
KEYPAD_TITLE = "Enter your code"
KEYPAD_HINT = "Type your access code, then OK"
KEYPAD_CLEAR = "Clear"
KEYPAD_DELETE = "Delete"
KEYPAD_BACK = "Back"
KEYPAD_OK = "OK"
KEYPAD_CHECKING = "Checking your code..."
KEYPAD_LOCKED = "{message} Try again in {seconds} s."

# Header
HEADER_BALANCE = "Balance {balance}"
HEADER_ACCOUNT = "Account"
HEADER_LOGOUT = "Log out"
HEADER_BACK = "Back"

# Jobs
JOBS_TITLE = "Hello, {name}"
JOBS_EMPTY = "You have no print jobs waiting. Print from your computer or phone, then come back."
JOBS_LOADING = "Loading your jobs..."
JOBS_PRINT_SELECTED = "Print selected ({count})"
JOBS_PRINT_ALL = "Print all"
JOBS_DELETE = "Delete selected"
JOBS_DENIED = "Print denied"
JOBS_SUBMITTED = "Sent {time}"
JOBS_PAGES = "{pages} pages"
JOBS_PAGE = "1 page"
JOBS_COPIES = "{pages} pages x {copies} copies"
JOBS_PAGES_UNKNOWN = "Pages unknown — holds {amount}"
JOBS_COLOUR = "Colour"
JOBS_MONO = "Black and white"
JOBS_DUPLEX = "Two-sided"
JOBS_SIMPLEX = "One-sided"
JOBS_DELETED = "Deleted {count} job(s). You were not charged."
JOBS_EXPIRED = "{names} waited more than {waited} and was deleted. You were not charged."
JOBS_EXPIRED_MANY = ("{names} waited more than {waited} and were deleted. "
                     "You were not charged.")
JOBS_HOURS = "{count} hours"
JOBS_MINUTES = "{count} minutes"
JOBS_SECONDS = "{count} seconds"
JOBS_AND_MORE = "{names} and {more} more"

# Releasing
RELEASING_TITLE = "Printing"
RELEASING_JOB = "{name}"
RELEASING_PAGE = "Page {printed} of {total}"
RELEASING_STARTING = "Sending to the printer..."
RELEASING_COUNT = "Job {index} of {count}"
RELEASING_CANCEL = "Cancel printing"
RELEASING_CANCELLING = "Cancelling... you pay only for pages that came out."
RELEASING_STOPPED = "Printing stopped: {problem}. {help}"
RELEASING_ESTIMATE = "Charged {estimate} now; the difference is refunded if fewer pages print."

# Result
RESULT_TITLE = "Done"
RESULT_PRINTED = "Printed {printed} of {total} pages"
RESULT_CHARGED = "Charged {amount}"
RESULT_REFUNDED = "Refunded {amount}"
RESULT_NO_REFUND = "Nothing to refund"
RESULT_REVIEW = "An operator will check the counters for this job."
RESULT_MORE = "Back to my jobs"
RESULT_LOGOUT = "Log out"

# Copy
JOBS_COPY = "Copy"
COPY_TITLE = "Copying"
COPY_STARTING = "Switching the copier on..."
COPY_READY = "The copier is on: make your copies there, then press Stop."
COPY_NOT_ENFORCED = ("Copying is not enforced on this copier: this terminal cannot stop it. "
                     "Your copies are counted from the copier's own counters and charged "
                     "when you press Stop or log out.")
COPY_PAGES = "{pages} pages"
COPY_PAGE = "1 page"
COPY_COST = "Cost so far: {cost}"
COPY_KIND = {"mono": "{pages} black and white", "colour": "{pages} colour",
             "mono_large": "{pages} black and white, large",
             "colour_large": "{pages} colour, large"}
COPY_STOP = "Stop copying"
COPY_STOPPING = "Stopping the copier and counting your pages..."
COPY_DONE_TITLE = "Copying done"
COPY_ENDED = {
    "stop": "You stopped copying.",
    "logout": "Copying ended when you logged out.",
    "idle": "Copying stopped: nothing was copied for a while.",
    "credit": "Copying stopped: your credit is used up.",
    "lease": "Copying stopped: the copier lost contact with this terminal.",
    "board-reset": "Copying stopped: the copier control board restarted.",
    "restart": "Copying stopped: this terminal restarted.",
    "shutdown": "Copying stopped: this terminal is shutting down.",
}
COPY_RESULT_PAGES = "Copied {pages} pages"
COPY_RESULT_PAGE = "Copied 1 page"
COPY_RESULT_COST = "Cost {cost}"
COPY_RESULT_CHARGED = "Charged {amount}"
COPY_RESULT_NOTHING = "Nothing charged"
COPY_LOGGED_OUT = "{ended} {pages}, charged {amount}."
COPY_LOGGED_OUT_NOTHING = "{ended} {pages}, nothing charged."
COPY_RESULT_REVIEW = ("The copier's two page counts did not agree, so the larger was "
                      "charged; an operator will check this session.")

# Account
ACCOUNT_TITLE = "My account"
ACCOUNT_BALANCE = "Balance: {balance}"
ACCOUNT_EMPTY = "No transactions in the last 90 days."
ACCOUNT_LOADING = "Loading your account..."
ACCOUNT_COLUMNS = {
    "date": "Date",
    "transacted_by": "By",
    "type": "Type",
    "system_note": "Note",
    "comment": "Comment",
    "amount_text": "Amount",
    "balance_text": "Balance",
}

# Learn how to print
LEARN_TITLE = "Learn how to print"
LEARN_PLATFORMS = {
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
    "phones": "Phones",
}
LEARN_GUIDES = {
    "windows": (
        "1. Open Settings > Bluetooth & devices > Printers & scanners.\n"
        "2. Choose Add device. If the printer is not listed, choose "
        "'Add manually' and enter the address from 'Set up my devices'.\n"
        "3. Print as usual. Your job waits here until you release it.\n"
        "4. Come to this panel, log in and tap Print."
    ),
    "macos": (
        "1. Open System Settings > Printers & Scanners.\n"
        "2. Click Add Printer, Scanner or Fax and pick this printer "
        "(it appears by itself on the same network).\n"
        "3. Print as usual. Your job waits here until you release it.\n"
        "4. Come to this panel, log in and tap Print."
    ),
    "linux": (
        "1. Open Settings > Printers and choose Add (or run system-config-printer).\n"
        "2. Pick this printer from the network list, or enter the IPP address "
        "from 'Set up my devices'.\n"
        "3. Print as usual. Your job waits here until you release it.\n"
        "4. Come to this panel, log in and tap Print."
    ),
    "phones": (
        "iPhone and iPad: tap Share > Print and choose this printer (AirPrint).\n"
        "Android: tap Share > Print, or Menu > Print, and choose this printer "
        "(Default Print Service).\n"
        "Your job waits here until you log in at this panel and tap Print."
    ),
}

# Set up my devices
DEVICES_TITLE = "Set up my devices"
DEVICES_SCAN = "Scan this code with your phone to open the printing portal."
DEVICES_OR = "Or type this address in a browser:"
DEVICES_NO_URL = "The portal address has not been set up. Ask your administrator."

# Printer alerts
ALERTS_TITLE = "Printer alerts"
ALERTS_NONE = "The printer has no alerts."
ALERT_HELP = {
    "jam": "Open the doors shown on the printer's screen, gently pull out the stuck paper, "
           "and close the doors. You pay only for pages that came out.",
    "paper-out": "Open the paper tray, add paper up to the line, and close the tray.",
    "toner-low": "Printing still works. Tell the staff so that they can order toner.",
    "offline": "The printer cannot be reached. Check that it is switched on, or tell the staff.",
}
ALERT_HELP_DEFAULT = "Tell the staff about this alert."
ALERT_TITLE = {
    "jam": "Paper jam",
    "paper-out": "Out of paper",
    "toner-low": "Toner low",
    "offline": "Printer offline",
}

# Auto-logout
LOGOUT_TITLE = "Are you still there?"
LOGOUT_COUNTDOWN = "You will be logged out in {seconds} s."
LOGOUT_STAY = "I'm still here"
LOGOUT_NOW = "Log out now"

# Errors that happen on the panel side
ERROR_AGENT_LOST = "Lost contact with the print service. Trying again..."
ERROR_GENERIC = "Something went wrong: {message}"
ERROR_BAD_ANSWER = ("The print service sent an answer this panel does not understand. "
                    "Please try again; if it keeps happening, ask for help.")

# Time formats (strftime) for job and transaction times
TIME_TODAY = "%H:%M"
TIME_OTHER = "%d.%m. %H:%M"
CLOCK = "%H:%M"
