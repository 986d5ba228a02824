"""Policy announcements: staff compose and publish; citizens who subscribed (by topic and province) get them.

* ``compose``: validation against LINE's limits and the message objects a citizen will see (also the preview);
* ``service``: create, test-send, publish now or at a time in Asia/Bangkok, cancel, progress;
* ``fanout``: the ``publish_announcement`` job writing multicast outbox rows of at most 500 recipients,
  resumably, and the sweeper's periodic check;
* ``subscriptions``: a citizen's topics and provinces (used by ``bot.flows.subscription``);
* ``views``: the staff pages (blueprint ``announcements``).
"""
