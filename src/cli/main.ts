console.log("fer: CLI not written yet");
