from tenancy.permissions import partnership_ended, partnership_pending
from tenancy.selectors import membership_list_for_user


def tenant(request) -> dict:
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = list(membership_list_for_user(user=user))
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        # True for an applicant under review, whose navigation shows only the review page.
        "partnership_pending": partnership_pending(getattr(request, "membership", None)),
        # True for a user of a terminated partner, whose portal pages are all closed.
        "partnership_ended": partnership_ended(getattr(request, "membership", None)),
        "memberships": memberships,
    }
