from django.core.management.base import BaseCommand

from engagements.demo import DEMO_PASSWORD, DemoBuilder


class Command(BaseCommand):
    help = "Create the demo portfolio (clients, engagements, a year of history) and the demo logins. Idempotent."

    def handle(self, *args, **options):
        created = DemoBuilder().build()
        if any(created.values()):
            self.stdout.write(self.style.SUCCESS(
                "Demo data created: {clients} clients, {engagements} engagements, {sessions} sessions, "
                "{milestones} milestones, {users} users.".format(**created)))
        else:
            self.stdout.write("Demo data already present; nothing created.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, role in [("consultant@example.com", "consultant"), ("manager@example.com", "manager"),
                            ("client@example.com", "client contact at Northwind Retail")]:
            self.stdout.write(f"  {email:<26} {role}")
